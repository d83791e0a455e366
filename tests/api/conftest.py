from tests.api_fixtures import *

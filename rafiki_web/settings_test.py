"""Settings for the test suite: a private data folder, a file SQLite database that the
end-to-end tests' worker subprocesses can open, and an in-memory broker unless a test
points Celery at its own Redis."""

import os
import tempfile

os.environ.setdefault("RAFIKI_DATA_DIR", tempfile.mkdtemp(prefix="rafiki-test-"))
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from rafiki_web.settings import *
from rafiki_web.settings import DATA_DIR, DATABASES

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BROKER_URL = "memory://"

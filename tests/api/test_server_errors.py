"""A bug in a view: API clients get the one JSON error shape, people get a page."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.models import api as models_api
from tests.api_fixtures import assert_error


@pytest.fixture
def broken_model_list(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(models_api.ModelListCreateApi, "get", boom)


def test_api_server_error_is_json(alice, client_for, broken_model_list) -> None:
    client = client_for(alice)
    client.raise_request_exception = False
    body = assert_error(client.get("/api/models/"), 500, "ServerError")
    assert "a bug" not in body["detail"]  # no internals leak to the client


def test_unknown_predictor_route_is_json_404(db) -> None:
    response = Client().post(
        "/predictors/no-such-key!/predict", data="{}", content_type="application/json"
    )
    assert_error(response, 404, "NotFoundError")


def test_page_not_found_is_a_product_page(alice) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Not found" in text and "/no/such/page/" in text
    assert 'href="/"' in text  # a way back home, inside the dashboard's layout
    assert "topbar" in text

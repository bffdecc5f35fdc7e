"""The front door: `/` leads to the pages, a favicon, and /docs served entirely from this server."""

import re

from fastapi.testclient import TestClient


def test_root_leads_to_the_pages_and_then_to_the_login(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/ui")
    assert client.get("/").url.path == "/ui/login"


def test_the_favicon_is_served(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.text.startswith("<svg")


def test_docs_load_every_asset_from_this_server(client: TestClient) -> None:
    html = client.get("/docs").text
    urls = re.findall(r'(?:src|href)="([^"]+)"|url: \'([^\']+)\'', html)
    assets = sorted({a or b for a, b in urls})
    assert assets == [
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/openapi.json",
        "/ui/static/favicon.svg",
    ]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404

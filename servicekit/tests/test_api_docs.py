"""Swagger UI and ReDoc load nothing from another host: their bundles are served by the app."""

from __future__ import annotations

import contextlib
import threading
import urllib.request
from collections.abc import Iterator

from flask import Flask
from werkzeug.serving import make_server

from servicekit.api import create_api
from servicekit.api_docs_check import docs_problems, fetch, references


@contextlib.contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` over real HTTP on a free loopback port until the block ends; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def _api_app() -> Flask:
    app = Flask(__name__)
    create_api(app, title="T", description="d", max_body_bytes=1000)
    return app


def test_both_docs_pages_load_every_script_and_stylesheet_from_the_service_itself():
    with served(_api_app()) as url:
        problems, fetched = docs_problems(url)
        swagger = fetch(f"{url}/api/docs").body
        redoc = fetch(f"{url}/api/redoc").body
        policies = {
            page: urllib.request.urlopen(f"{url}{page}").headers["Content-Security-Policy"]
            for page in ("/api/docs", "/api/redoc")
        }

    assert problems == []
    assert {kind for kind, _ in references(swagger)} == {"script", "stylesheet"}
    assert all(src.startswith("/api/docs/assets/") for _, src in references(swagger + redoc))
    assert "https://" not in swagger + redoc
    # The pages' own bundles, not an error page: Swagger UI's and ReDoc's code.
    bodies = {item.url.rsplit("/", 1)[-1]: item.body for item in fetched}
    assert "SwaggerUIBundle" in bodies["swagger-ui-bundle.js"]
    assert "Redoc" in bodies["redoc.standalone.js"]
    # No badge image from validator.swagger.io.
    assert '"validatorUrl": null' in swagger
    # The browser may load nothing from elsewhere; Swagger UI's inline start-up runs by its
    # hash, and nothing else inline does.
    for policy in policies.values():
        assert "default-src 'none'" in policy
        assert "img-src 'self' data:;" in policy
    swagger_scripts = policies["/api/docs"].split("script-src ")[1]
    assert swagger_scripts.startswith("'self' 'sha256-")
    assert "unsafe" not in swagger_scripts
    assert policies["/api/redoc"].endswith("script-src 'self'")


def test_without_npm_ci_the_bundles_answer_503_saying_what_to_run(tmp_path):
    app = _api_app()
    app.config["API_DOCS_ASSETS_DIR"] = str(tmp_path / "node_modules")
    client = app.test_client()

    answer = client.get("/api/docs/assets/swagger-ui/swagger-ui-bundle.js")

    assert answer.status_code == 503
    assert "Run `npm ci` in servicekit" in answer.get_json()["message"]
    assert client.get("/api/docs").status_code == 200


def test_only_the_two_bundles_directories_are_served():
    client = _api_app().test_client()

    assert client.get("/api/docs/assets/redoc/redoc.standalone.js").status_code == 200
    assert client.get("/api/docs/assets/redoc/../package.json").status_code == 404
    assert client.get("/api/docs/assets/redoc/%2E%2E/package.json").status_code == 404
    assert client.get("/api/docs/assets/chart.js/package.json").status_code == 404
    assert client.get("/api/docs/assets/swagger-ui/nothing.js").status_code == 404


def test_the_check_reports_a_page_that_loads_from_another_host():
    app = Flask(__name__)

    @app.get("/api/docs")
    def docs():
        return (
            '<link rel="stylesheet" href="https://cdn.example/ui.css">'
            '<script src="/missing.js"></script>'
        )

    @app.get("/api/redoc")
    def redoc():
        return "<p>nothing</p>"

    with served(app) as url:
        problems, _ = docs_problems(url)

    assert problems[0] == f"/api/docs: stylesheet https://cdn.example/ui.css is not from {url}"
    assert problems[1].startswith("/api/docs: script /missing.js answers 404")
    assert problems[2] == "/api/redoc: references no script or stylesheet"

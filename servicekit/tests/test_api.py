"""The shared API scaffolding: probes, the sturdier JSON parser, the error shape."""

from __future__ import annotations

from flask import Flask
from marshmallow import Schema, fields

from servicekit.api import Blueprint, create_api, error_response
from servicekit.health import probes


def _down():
    raise ConnectionError("refused")


def test_readyz_names_what_is_down_and_healthz_stays_up():
    app = Flask(__name__)
    app.register_blueprint(probes(lambda: {"database": lambda: None, "cache": _down}))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"] == {
        "database": "ok",
        "cache": "down: ConnectionError: refused",
    }


class _Body(Schema):
    n = fields.Integer(required=True)


def _api_app() -> Flask:
    app = Flask(__name__)
    api = create_api(app, title="T", description="d", max_body_bytes=300_000)
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.post("/")
    @blp.arguments(_Body)
    def post(body):
        return {"n": body["n"]}

    api.register_blueprint(blp)
    return app


def test_bodies_nested_too_deeply_or_too_large_are_4xx_not_5xx():
    client = _api_app().test_client()
    deep = "[" * 100_000 + "]" * 100_000
    answer = client.post("/things/", data=deep, content_type="application/json")
    assert answer.status_code == 400
    huge_number = '{"n": ' + "9" * 5000 + "}"
    assert (
        client.post("/things/", data=huge_number, content_type="application/json").status_code
        == 400
    )
    assert client.post("/things/", json={"n": 1, "pad": "x" * 400_000}).status_code == 413
    assert client.post("/things/", json={"n": 2}).get_json() == {"n": 2}


def test_the_openapi_document_names_the_bearer_scheme():
    spec = _api_app().test_client().get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["info"]["title"] == "T"


def test_error_response_has_flask_smorests_shape():
    app = Flask(__name__)
    with app.app_context():
        body, code, headers = error_response(409, "Taken.", {"name": ["dup"]}, {"X": "1"})
    assert code == 409
    assert body.get_json() == {
        "code": 409,
        "status": "Conflict",
        "message": "Taken.",
        "errors": {"name": ["dup"]},
    }
    assert headers == {"X": "1"}


def test_json_answers_follow_the_apps_json_settings_even_when_changed_later():
    app = Flask(__name__)
    create_api(app, title="t", description="d", max_body_bytes=1024)

    @app.get("/answer")
    def answer():
        return {"b": 1, "a": "é"}

    client = app.test_client()
    assert client.get("/answer").get_data(as_text=True) == '{"a":"\\u00e9","b":1}\n'
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    assert client.get("/answer").get_data(as_text=True) == '{"b":1,"a":"é"}\n'
    app.debug = True
    assert client.get("/answer").get_data(as_text=True) == '{\n  "b": 1,\n  "a": "é"\n}\n'
    assert app.json.dumps({"b": 1}, default=str) == '{"b": 1}'

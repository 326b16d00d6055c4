"""The OpenAPI document, the docs pages, the probes and the metrics."""

from __future__ import annotations

import json
import re

import pytest

SPEC = "/api/openapi.json"
BEARER = [{"bearerAuth": []}]

# The Appstore table of the contract: path -> method -> statuses the document must list.
CONTRACT = {
    "/api/v1/auth/register": {"post": {"201", "409", "422", "429"}},
    "/api/v1/auth/token": {"post": {"200", "401", "422", "429"}},
    "/api/v1/users/me": {"get": {"200", "401"}},
    "/api/v1/users/": {"get": {"200", "401", "403", "422"}},
    "/api/v1/users/{id}": {"get": {"200", "401", "403", "404"}},
    "/api/v1/users/{id}/credit": {"post": {"200", "401", "403", "404", "422"}},
    "/api/v1/users/{id}/role": {"post": {"200", "401", "403", "404", "422"}},
    "/api/v1/apps/": {"get": {"200", "401", "403", "422"}, "post": {"201", "401", "422"}},
    "/api/v1/apps/{id}": {
        "get": {"200", "401", "404"},
        "patch": {"200", "401", "403", "404", "422"},
        "delete": {"204", "401", "403", "404"},
    },
    "/api/v1/apps/{id}/verify": {"post": {"200", "401", "403", "404"}},
    "/api/v1/apps/{id}/purchase": {"post": {"201", "401", "402", "403", "404", "409", "422"}},
    "/api/v1/purchases/": {"get": {"200", "401", "403", "422"}},
    "/api/v1/purchases/{id}": {"get": {"200", "401", "404"}},
    "/.well-known/jwks.json": {"get": {"200"}},
}
EVENTS = {"/api/v1/events/": {"get": {"200", "401", "403", "422"}}}
PUBLIC = {("/api/v1/auth/register", "post"), ("/api/v1/auth/token", "post")}
# Request bodies: path, method -> (schema fields, required fields)
BODIES = {
    ("/api/v1/auth/register", "post"): (
        {"username", "email", "password"},
        {"username", "email", "password"},
    ),
    ("/api/v1/auth/token", "post"): ({"username", "password"}, {"username", "password"}),
    ("/api/v1/users/{id}/credit", "post"): ({"amount", "note"}, {"amount"}),
    ("/api/v1/users/{id}/role", "post"): ({"role"}, {"role"}),
    ("/api/v1/apps/", "post"): (
        {"title", "description", "price", "access_link", "icon_url"},
        {"title", "description", "price", "access_link"},
    ),
    ("/api/v1/apps/{id}", "patch"): (
        {"title", "description", "price", "access_link", "icon_url"},
        set(),
    ),
}


@pytest.fixture
def spec(client):
    response = client.get(SPEC)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _paths(spec) -> dict:
    """The document's paths with every path parameter spelled ``{id}``."""
    return {re.sub(r"\{[^}]+\}", "{id}", path): ops for path, ops in spec["paths"].items()}


def _schema(spec, ref_or_schema: dict) -> dict:
    ref = ref_or_schema.get("$ref")
    if ref is None:
        return ref_or_schema
    assert ref.startswith("#/components/schemas/")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_spec_is_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Appstore"
    assert spec["info"]["version"]


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, methods in CONTRACT.items() for method in methods],
)
def test_every_contract_operation_is_documented_with_its_statuses(spec, path, method):
    paths = _paths(spec)
    assert path in paths, sorted(paths)
    operation = paths[path].get(method)
    assert operation is not None, f"{method.upper()} {path} is not documented"
    assert CONTRACT[path][method] <= set(operation["responses"])
    assert operation.get("summary") or operation.get("description")


def test_the_event_log_is_documented(spec):
    paths = _paths(spec)
    for path, methods in EVENTS.items():
        assert path in paths, sorted(paths)
        for method, statuses in methods.items():
            assert statuses <= set(paths[path][method]["responses"])
            assert paths[path][method]["security"] == BEARER


def test_bearer_security_scheme(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_protected_operations_require_the_bearer_token(spec):
    for path, operations in _paths(spec).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method == "parameters":
                continue
            expected = [] if (path, method) in PUBLIC else BEARER
            assert operation.get("security") == expected, f"{method.upper()} {path}"


@pytest.mark.parametrize(("path", "method"), list(BODIES))
def test_request_bodies_are_documented(spec, path, method):
    fields, required = BODIES[(path, method)]
    body = _paths(spec)[path][method]["requestBody"]
    schema = _schema(spec, body["content"]["application/json"]["schema"])
    assert set(schema["properties"]) >= fields
    assert set(schema.get("required", [])) == required
    assert "id" not in schema["properties"]


def test_token_documents_the_oauth2_form(spec):
    content = _paths(spec)["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}


def test_money_fields_are_integers(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["App"]["properties"]["price"]["type"] == "integer"
    assert schemas["AppCreate"]["properties"]["price"]["type"] == "integer"
    assert schemas["Purchase"]["properties"]["price"]["type"] == "integer"
    assert schemas["User"]["properties"]["credit"]["type"] == "integer"
    assert schemas["CreditGrant"]["properties"]["amount"]["type"] == "integer"


def test_password_is_never_in_an_answer_schema(spec):
    assert "password" not in spec["components"]["schemas"]["User"]["properties"]
    token_schema = spec["components"]["schemas"]["Token"]["properties"]
    assert set(token_schema) == {"access_token", "token_type", "expires_in"}


def test_lists_document_pagination(spec):
    paths = _paths(spec)
    for path in ("/api/v1/users/", "/api/v1/apps/", "/api/v1/purchases/"):
        operation = paths[path]["get"]
        names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert {"page", "page_size"} <= names, path
        assert "X-Pagination" in operation["responses"]["200"].get("headers", {}), path


def test_x_pagination_is_documented_as_the_json_text_it_is(spec, client, api):
    header = spec["components"]["headers"]["PAGINATION_JSON"]
    assert header["schema"]["type"] == "string"
    sent = client.get("/api/v1/apps/", headers=api.user()["headers"]).headers["X-Pagination"]
    assert json.loads(sent)["total"] == 0


def test_throttled_operations_document_retry_after(spec):
    for path in ("/api/v1/auth/register", "/api/v1/auth/token"):
        answer = _paths(spec)[path]["post"]["responses"]["429"]
        assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer", path


@pytest.mark.parametrize(
    ("path", "field", "keywords"),
    [
        ("Register", "username", {"minLength": 3, "maxLength": 40}),
        ("Register", "password", {"minLength": 8, "pattern": "^[^\\u0000]*$"}),
        ("AppCreate", "access_link", {"maxLength": 2048}),
        ("AppCreate", "title", {"minLength": 1, "maxLength": 200}),
    ],
)
def test_every_rule_of_a_field_is_a_schema_keyword(spec, path, field, keywords):
    documented = spec["components"]["schemas"][path]["properties"][field]
    assert keywords.items() <= documented.items()
    assert "pattern" in documented


def test_an_empty_change_is_refused_by_the_document_too(spec):
    assert spec["components"]["schemas"]["AppUpdate"]["minProperties"] == 1


@pytest.mark.parametrize(
    ("source", "status", "link", "target"),
    [
        ("/api/v1/auth/register", "201", "GetUser", "/api/v1/users/{user_id}"),
        ("/api/v1/apps/", "201", "VerifyApp", "/api/v1/apps/{app_id}/verify"),
        ("/api/v1/apps/", "201", "BuyApp", "/api/v1/apps/{app_id}/purchase"),
        ("/api/v1/apps/{app_id}/purchase", "201", "GetPurchase", "/api/v1/purchases/{purchase_id}"),
    ],
)
def test_links_lead_from_what_creates_to_what_uses_its_id(spec, source, status, link, target):
    operations = spec["paths"][source]
    operation = operations.get("post") if status == "201" else operations["get"]
    found = operation["responses"][status]["links"][link]
    pointer = found["operationRef"].removeprefix("#/paths/").rsplit("/", 1)[0]
    assert pointer.replace("~1", "/").replace("~0", "~") == target


@pytest.mark.parametrize("method", ["TRACE", "PUT"])
def test_a_method_a_path_does_not_take_is_405_with_allow(client, method):
    answer = client.open("/api/v1/users/me", method=method)
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert answer.get_json()["code"] == 405


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_docs_pages_are_html(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/api/openapi.json" in response.get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert all(state == "ok" for state in body["checks"].values())


def _sample(text: str, name: str, **labels) -> float:
    """The value of the sample ``name`` whose labels include ``labels``; 0 when absent."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match is None:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1)))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


def test_metrics_count_requests_by_endpoint(client, api):
    user = api.user()
    labels = {"method": "GET", "endpoint": "/api/v1/users/me", "status": "200"}
    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(3):
        assert client.get("/api/v1/users/me", headers=user["headers"]).status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "# TYPE appstore_http_requests_total counter" in text
    assert "# TYPE appstore_http_request_duration_seconds histogram" in text
    counted = _sample(text, "appstore_http_requests_total", **labels)
    assert counted - _sample(before, "appstore_http_requests_total", **labels) == 3
    timed = _sample(text, "appstore_http_request_duration_seconds_count", **labels)
    assert timed - _sample(before, "appstore_http_request_duration_seconds_count", **labels) == 3


def test_metrics_label_the_route_not_the_path(client, api):
    admin = api.user("admin")
    assert client.get(f"/api/v1/users/{admin['id']}", headers=admin["headers"]).status_code == 200
    assert client.get("/api/v1/users/424242", headers=admin["headers"]).status_code == 404
    text = client.get("/metrics").get_data(as_text=True)
    endpoints = set(re.findall(r'appstore_http_requests_total\{[^}]*endpoint="([^"]*)"', text))
    assert f"/api/v1/users/{admin['id']}" not in endpoints
    assert "/api/v1/users/424242" not in endpoints
    by_id = [e for e in endpoints if e.startswith("/api/v1/users/<") and e.endswith("user_id>")]
    assert len(by_id) == 1
    assert _sample(text, "appstore_http_requests_total", endpoint=by_id[0], status="404") >= 1

"""Ground-truth reports: every app (delisted too), totals from the source tables."""

from __future__ import annotations

import pytest

from .helpers import buy, pagination


@pytest.fixture
def history(api, client):
    owner, other = api.user(), api.user()
    buyer, poor = api.user(credit=100), api.user(credit=1)
    cheap, dear = api.app(owner, price=10), api.app(other, price=30)
    hidden = api.app(owner, price=5, verified=False)
    assert buy(client, buyer, cheap).status_code == 201
    assert buy(client, buyer, dear).status_code == 201
    assert buy(client, poor, cheap).status_code == 402
    admin = api.user("admin")
    deleted = client.delete(f"/api/v1/apps/{dear['id']}", headers=admin["headers"])
    assert deleted.status_code == 204
    return {"cheap": cheap, "dear": dear, "hidden": hidden, "admin": admin}


def test_totals_come_from_the_source_tables(client, api, history):
    service = api.user("service")

    answer = client.get("/api/v1/reports/totals", headers=service["headers"])

    assert answer.status_code == 200, answer.get_json()
    # Users: two owners, two buyers, the two admins api.app made for verifying, the admin,
    # the service account.
    assert answer.get_json() == {
        "users": 8,
        "apps_created": 3,
        "apps_verified": 2,
        "purchases": 2,
        "credits_spent": 40,
        "credits_granted": 101,
        "buyers": 1,
    }


def test_app_figures_list_every_app_with_its_sales(client, history):
    answer = client.get(
        "/api/v1/reports/apps", query_string={"page_size": 2}, headers=history["admin"]["headers"]
    )
    rest = client.get(
        "/api/v1/reports/apps",
        query_string={"page_size": 2, "page": 2},
        headers=history["admin"]["headers"],
    )

    assert answer.status_code == 200
    figures = answer.get_json() + rest.get_json()
    assert [(f["app_id"], f["purchases"], f["revenue"]) for f in figures] == [
        (history["cheap"]["id"], 1, 10),
        (history["dear"]["id"], 1, 30),
        (history["hidden"]["id"], 0, 0),
    ]
    assert pagination(answer)["total"] == 3


@pytest.mark.parametrize("path", ["/api/v1/reports/totals", "/api/v1/reports/apps"])
@pytest.mark.parametrize(("role", "status"), [("user", 403), ("management", 403)])
def test_only_admin_and_service_read_reports(client, api, path, role, status):
    assert client.get(path, headers=api.user(role)["headers"]).status_code == status
    assert client.get(path).status_code == 401

"""OpenAPI links: where the ids an answer carries can be used next.

A client generator (or an API fuzzer walking the API) follows them: a registered user's id
to the account's operations, a new app's id to verifying, buying and reading it, a
purchase's ids to the purchase and its app.
"""

from __future__ import annotations

from flask_smorest import Blueprint

USER = "/api/v1/users/{user_id}"
APP = "/api/v1/apps/{app_id}"
PURCHASE = "/api/v1/purchases/{purchase_id}"


def operation(path: str, method: str) -> str:
    """A JSON pointer to the operation ``method`` of ``path`` in this document."""
    return f"#/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}"


def link(path: str, method: str, description: str, **parameters: str) -> dict:
    """A link to ``method path`` whose parameters come from runtime expressions."""
    return {
        "operationRef": operation(path, method),
        "parameters": parameters,
        "description": description,
    }


def user_links(id_at: str = "$response.body#/id") -> dict:
    return {
        "GetUser": link(USER, "get", "The account.", user_id=id_at),
        "GrantCredit": link(f"{USER}/credit", "post", "Give it credit.", user_id=id_at),
        "ChangeRole": link(f"{USER}/role", "post", "Change its role.", user_id=id_at),
    }


def app_links(id_at: str = "$response.body#/id") -> dict:
    return {
        "GetApp": link(APP, "get", "The app.", app_id=id_at),
        "UpdateApp": link(APP, "patch", "Change it.", app_id=id_at),
        "VerifyApp": link(f"{APP}/verify", "post", "Admit it to the catalogue.", app_id=id_at),
        "BuyApp": link(f"{APP}/purchase", "post", "Buy it.", app_id=id_at),
        "ListPurchasesOfApp": link(
            "/api/v1/purchases/", "get", "Its purchases.", **{"query.app_id": id_at}
        ),
        "DeleteApp": link(APP, "delete", "Delist it.", app_id=id_at),
    }


def purchase_links() -> dict:
    return {
        "GetPurchase": link(PURCHASE, "get", "The purchase.", purchase_id="$response.body#/id"),
        "GetBoughtApp": link(APP, "get", "The app bought.", app_id="$response.body#/app_id"),
    }


def links(blp: Blueprint, status: int, found: dict):
    """Decorate a view so that its ``status`` answer documents ``found`` links."""
    return blp.doc(responses={status: {"links": found}})

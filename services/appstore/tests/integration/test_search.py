"""The catalogue's search on both backends: case-insensitive, literal, titles and descriptions.

PostgreSQL answers it from trigram indexes and SQLite by scanning; the answers must not
differ (``test_search_index.py`` checks that PostgreSQL does use the indexes).
"""

from __future__ import annotations

import pytest

from .helpers import ids, pagination

APPS = "/api/v1/apps/"


@pytest.fixture(scope="session", params=["postgres", "sqlite"])
def backend_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def searchable(api):
    owner = api.user()
    made = {
        "photo": api.app(owner, title="Photo Editor", description="Edit pictures."),
        "music": api.app(owner, title="Music Box", description="Plays PHOTOGRAPHIC sounds."),
        "chess": api.app(owner, title="Chess", description="A board game."),
        "percent": api.app(owner, title="100% Free", description="No cost."),
        "thousand": api.app(owner, title="1000 Free", description="No cost either."),
        "underscore": api.app(owner, title="snake_case", description="Naming."),
        "letters": api.app(owner, title="snakeXcase", description="Naming too."),
        "slash": api.app(owner, title="Either/Or", description="Choices."),
    }
    return owner, {name: app["id"] for name, app in made.items()}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("photo", ["photo", "music"]),
        ("PHOTO", ["photo", "music"]),
        ("pHoToGrApHiC", ["music"]),
        ("board game", ["chess"]),
        ("o e", ["photo"]),  # across a word boundary: "Photo Editor"
        ("ditor", ["photo"]),  # inside a word
        ("es.", ["photo", "slash"]),  # punctuation as written: "pictures.", "Choices."
        ("100%", ["percent"]),
        ("%", ["percent"]),
        ("e_c", ["underscore"]),
        ("_", ["underscore"]),
        ("r/o", ["slash"]),  # the escape character of the LIKE pattern is literal too
        ("/", ["slash"]),
        ("c", ["photo", "music", "chess", "percent", "thousand", "underscore", "letters", "slash"]),
        ("nothing like this", []),
        ("", ["photo", "music", "chess", "percent", "thousand", "underscore", "letters", "slash"]),
    ],
)
def test_search_is_case_insensitive_and_literal(client, searchable, q, expected):
    owner, made = searchable
    response = client.get(APPS, query_string={"q": q}, headers=owner["headers"])
    assert ids(response) == sorted(made[name] for name in expected)
    assert pagination(response)["total"] == len(expected)


def test_search_skips_unverified_apps(client, api):
    owner, other = api.user(), api.user()
    api.app(owner, title="Secret Photo", verified=False)
    found = api.app(owner, title="Public Photo")
    response = client.get(APPS, query_string={"q": "photo"}, headers=other["headers"])
    assert ids(response) == [found["id"]]


def test_search_of_your_own_apps_finds_unverified_ones(client, api):
    owner = api.user()
    hidden = api.app(owner, title="Draft Photo", verified=False)
    listed = api.app(owner, title="Listed Photo")
    api.app(owner, title="Chess")
    response = client.get(
        APPS, query_string={"q": "PHOTO", "mine": "true"}, headers=owner["headers"]
    )
    assert ids(response) == [hidden["id"], listed["id"]]


def test_the_search_parameter_is_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    parameters = spec["paths"][APPS]["get"]["parameters"]
    q = next(p for p in parameters if p["name"] == "q")
    assert q["in"] == "query"
    assert q["schema"]["maxLength"] == 200
    assert "title or description" in q["description"]
    assert "case-insensitively" in q["description"]

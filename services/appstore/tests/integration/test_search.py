"""The catalogue's search on both backends: case-insensitive, literal, titles and descriptions.

PostgreSQL answers it from trigram indexes and SQLite by scanning; the answers must not
differ (``test_search_index.py`` checks that PostgreSQL does use the indexes).
"""

from __future__ import annotations

import pytest

from appstore.security.principal import Principal
from appstore.services import apps as apps_service
from appstore.services import search as search_service

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


@pytest.fixture
def small_cap(monkeypatch):
    """Searches count exactly up to 4 matches (or the page asked for), not 1,000."""
    monkeypatch.setattr(apps_service, "EXACT_MATCHES", 4)
    return 4


def photos(api, count):
    owner = api.user()
    made = [api.app(owner, title=f"Photo {n}", description="Pictures.")["id"] for n in range(count)]
    api.app(owner, title="Chess", description="A board game.")
    return owner, made


def search(client, owner, q="photo", **query):
    return client.get(APPS, query_string={"q": q, **query}, headers=owner["headers"])


def test_a_search_within_the_cap_counts_exactly(client, api, small_cap):
    owner, made = photos(api, small_cap)
    response = search(client, owner)
    assert ids(response) == made
    assert pagination(response) == {
        "total": 4,
        "total_pages": 1,
        "first_page": 1,
        "last_page": 1,
        "page": 1,
    }


def test_past_the_cap_the_total_is_a_lower_bound_and_says_so(client, api, small_cap):
    owner, made = photos(api, 9)
    response = search(client, owner, page_size=2)
    assert ids(response) == made[:2]
    # Counted to 4 of 9: at least 5 match, the next page is there.
    assert pagination(response) == {
        "total": 5,
        "total_exact": False,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 1,
        "next_page": 2,
    }


def test_pages_past_the_cap_are_counted_to_their_end(client, api, small_cap):
    owner, made = photos(api, 9)
    walked, page = [], 1
    while page is not None:
        response = search(client, owner, page=page, page_size=2)
        walked += ids(response)
        header = pagination(response)
        page = header.get("next_page")
    assert walked == made
    # The last page counted to its end and beyond: all 9, exactly.
    assert header == {
        "total": 9,
        "total_pages": 5,
        "first_page": 1,
        "last_page": 5,
        "page": 5,
        "previous_page": 4,
    }
    middle = pagination(search(client, owner, page=3, page_size=2))
    assert (middle["total"], middle["total_exact"], middle["next_page"]) == (7, False, 4)


def test_a_page_past_the_end_of_a_capped_search_is_empty(client, api, small_cap):
    owner, _ = photos(api, 9)
    response = search(client, owner, page=50, page_size=2)
    assert ids(response) == []
    assert pagination(response)["total"] == 9
    assert "total_exact" not in pagination(response)


def test_a_listing_without_a_search_counts_exactly(client, api, small_cap):
    owner, made = photos(api, 9)
    response = client.get(APPS, query_string={"page_size": 2}, headers=owner["headers"])
    assert ids(response) == made[:2]
    assert pagination(response)["total"] == 10
    assert "total_exact" not in pagination(response)


def test_the_service_takes_its_cap_as_a_parameter(components, api):
    owner, made = photos(api, 6)
    principal = Principal(owner["id"], owner["username"], "user")
    found, total, exact = apps_service.list_apps(
        components.db,
        principal,
        q="PHOTO",
        verified=None,
        mine=False,
        page=1,
        page_size=3,
        exact_up_to=3,
    )
    assert ([app.id for app in found], total, exact) == (made[:3], 4, False)
    found, total, exact = apps_service.list_apps(
        components.db,
        principal,
        q="PHOTO",
        verified=None,
        mine=False,
        page=1,
        page_size=3,
        exact_up_to=6,
    )
    assert ([app.id for app in found], total, exact) == (made[:3], 6, True)


def test_the_lower_bound_is_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"][APPS]["get"]
    assert '"total_exact": false' in operation["description"]
    assert "lower bound" in operation["description"]
    header = spec["components"]["headers"]["PAGINATION_JSON"]
    assert "total_exact: false" in header["description"]


def test_an_apps_new_words_are_found_once_it_changes(client, api):
    owner = api.user()
    made = api.app(owner, title="Zyxwvut Tools", description="Handy.")
    assert ids(search(client, owner, "yxwv")) == [made["id"]]
    changed = client.patch(
        f"{APPS}{made['id']}",
        json={"title": "Qponmlk Tools", "description": "Now quux-ready."},
        headers=owner["headers"],
    )
    assert changed.status_code == 200, changed.get_json()
    assert ids(search(client, owner, "ponml")) == [made["id"]]
    assert ids(search(client, owner, "QUUX")) == [made["id"]]
    assert ids(search(client, owner, "yxwv")) == []


def test_a_search_inside_a_very_long_word_finds_it(client, api):
    owner = api.user()
    long_word = "ab" * 150 + "needle" + "cd" * 150
    made = api.app(owner, title="Long", description=f"One {long_word} word.")
    api.app(owner, title="Short", description="No needles here.")
    assert ids(search(client, owner, "babneedlecdc")) == [made["id"]]
    assert ids(search(client, owner, "ab" * 60)) == [made["id"]]


@pytest.mark.parametrize("most", [1, 100])
def test_a_search_many_words_contain_answers_alike(client, api, monkeypatch, most):
    """Past ``MAX_WORDS`` words containing it, a search is answered by LIKE alone."""
    monkeypatch.setattr(search_service, "MAX_WORDS", most)
    owner = api.user()
    made = [
        api.app(owner, title=f"Photo{suffix}", description="Pictures.")["id"]
        for suffix in ("", "graph", "booth", "s")
    ]
    api.app(owner, title="Chess", description="A board game with no pictures.")
    response = search(client, owner, "PHOTO")
    assert ids(response) == made
    assert pagination(response)["total"] == 4


def test_a_search_its_words_cannot_serve_counts_fewer_exactly(client, api, monkeypatch, components):
    """Letters and digits on PostgreSQL count to ``EXACT_MATCHES``; the rest, sifted from
    trigram candidates or a scan, to ``EXACT_MATCHES_SIFTED``."""
    monkeypatch.setattr(apps_service, "EXACT_MATCHES", 4)
    monkeypatch.setattr(apps_service, "EXACT_MATCHES_SIFTED", 2)
    owner, _ = photos(api, 4)
    words = pagination(search(client, owner, "photo", page_size=1))
    other = pagination(search(client, owner, "photo ", page_size=1))
    if components.db.engine.dialect.name == "postgresql":
        assert (words["total"], "total_exact" in words) == (4, False)
    else:
        assert (words["total"], words["total_exact"]) == (3, False)
    assert (other["total"], other["total_exact"]) == (3, False)


def test_each_backends_cases_run_on_that_backend(components, backend_url):
    assert components.db.is_sqlite == backend_url.startswith("sqlite")

"""The API docs pages of a served Appstore load nothing from another host."""

from __future__ import annotations

from servicekit.api_docs_check import DOCS_PATHS, docs_problems


def test_swagger_ui_and_redoc_load_every_script_and_stylesheet_from_the_appstore(live_server):
    problems, fetched = docs_problems(live_server)

    assert problems == []
    assert {item.url.removeprefix(live_server) for item in fetched} == DOCS_PATHS

"""Narrowing the page to one app or developer in headless Chromium: every tile and chart
against the API's answers for that app, the filter in the URL, reload and back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from appstore.services import purchases

from .conftest import ARTIFACTS, SCREENSHOTS
from .history import MANAGER
from .pages import DashboardPage, View

SCOPED = ("purchases", "credits_spent")
HIDDEN_WHEN_FILTERED = ("new_buyers", "users", "apps_created", "credits_granted")


@pytest.fixture
def manager(context) -> DashboardPage:
    tab = DashboardPage(context.new_page()).open()
    tab.sign_in(MANAGER)
    tab.wait_loaded()
    return tab


class Api:
    """The Dashboard's API, asked with the token the page holds."""

    def __init__(self, tab: DashboardPage, base_url: str) -> None:
        self.base_url = base_url
        token = tab.page.evaluate('sessionStorage.getItem("dashboard.token")')
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params) -> dict | list:
        answer = requests.get(self.base_url + path, params=params, headers=self.headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()


def shown_filter(tab: DashboardPage) -> str:
    return tab.page.get_attribute("#dashboard", "data-filter") or ""


def url_filter(tab: DashboardPage) -> dict[str, list[str]]:
    query = parse_qs(urlsplit(tab.page.url).query)
    return {name: value for name, value in query.items() if name in ("app_id", "owner_id")}


def visible_tiles(tab: DashboardPage) -> set[str]:
    return set(
        tab.page.eval_on_selector_all(
            "#kpis .kpi", "tiles => tiles.filter(t => !t.hidden).map(t => t.dataset.total)"
        )
    )


def assert_shows_the_api(tab: DashboardPage, api: Api, view: View, **scope: int) -> None:
    """The visible tiles (window, previous, all-time) and charts equal the API's answers
    for ``view`` narrowed to ``scope``; the store-wide ones are hidden."""
    window = {"from": view.start.isoformat(), "to": view.end.isoformat()}
    summary = api.get("/api/v1/stats/summary", **window, **scope)
    all_time = api.get("/api/v1/stats/summary", **scope)
    shown, totals = tab.kpis(), tab.all_time()
    assert visible_tiles(tab) == set(SCOPED)
    for name in SCOPED:
        assert shown[name] == summary[name], name
        assert shown[f"previous_{name}"] == summary["previous"][name], name
        assert totals[name] == all_time[name], name
        series = api.get(
            "/api/v1/stats/timeseries",
            metric=name,
            bucket=view.bucket,
            tz=view.tz,
            **window,
            **scope,
        )
        times, values = tab.chart(name)
        assert [p["value"] for p in series["points"]] == values, name
        assert [p["t"] for p in series["points"]] == times
        assert sum(values) == summary[name], name
        assert tab.series_table(name) == values
        link = tab.page.get_attribute(f'a.csv[data-metric="{name}"]', "href")
        assert (
            parse_qs(urlsplit(link).query).items()
            >= {key: [str(value)] for key, value in scope.items()}.items()
        )
    for metric in ("apps_created", "credit"):
        assert not tab.page.is_visible(f'[data-series="{metric}"]')


def test_clicking_an_app_narrows_every_tile_and_chart_to_it(manager, dashboard):
    api = Api(manager, dashboard.url)
    store_wide = manager.kpis()
    button = manager.page.locator("#top-apps tbody button.pick").first
    app_id = int(button.get_attribute("data-id"))
    title = button.inner_text()
    before = manager.loads()

    button.click()

    view = manager.wait_loaded(before)
    assert shown_filter(manager) == f"app:{app_id}"
    assert url_filter(manager) == {"app_id": [str(app_id)]}
    assert manager.page.inner_text("#filter-label") == f"App: {title}"
    assert "all time" in manager.page.inner_text("#filter-details")
    assert manager.page.evaluate("document.activeElement.id") == "filter-remove"
    assert_shows_the_api(manager, api, view, app_id=app_id)
    assert manager.kpis()["purchases"] < store_wide["purchases"]
    SCREENSHOTS.append(manager.screenshot(ARTIFACTS / "dashboard-one-app.png"))

    manager.page.reload()
    view = manager.wait_loaded()  # a new page: its loads count from 0 again
    assert shown_filter(manager) == f"app:{app_id}"
    assert_shows_the_api(manager, api, view, app_id=app_id)

    before = manager.loads()
    manager.page.go_back()
    manager.wait_loaded(before)
    assert shown_filter(manager) == ""
    assert url_filter(manager) == {}
    assert not manager.page.is_visible("#filter")
    assert {"purchases", "users", "apps_verified", "credits_granted"} <= visible_tiles(manager)
    assert manager.page.is_visible('[data-series="credit"]')
    assert manager.kpis()["purchases"] == store_wide["purchases"]
    assert manager.errors == []


def test_a_developer_by_keyboard_then_the_chip_removed_by_keyboard(manager, dashboard):
    api = Api(manager, dashboard.url)
    button = manager.page.locator("#top-developers tbody button.pick").first
    owner_id = int(button.get_attribute("data-id"))
    before = manager.loads()

    button.focus()
    manager.page.keyboard.press("Enter")

    view = manager.wait_loaded(before)
    assert url_filter(manager) == {"owner_id": [str(owner_id)]}
    assert_shows_the_api(manager, api, view, owner_id=owner_id)
    window = {"from": view.start.isoformat(), "to": view.end.isoformat()}
    theirs = api.get("/api/v1/stats/top-apps", owner_id=owner_id, **window)
    assert theirs
    assert manager.top_apps() == {
        row["title"]: (row["purchases"], row["revenue"]) for row in theirs
    }
    assert manager.page.inner_text("#top-apps-title").startswith("Top apps of ")

    before = manager.loads()
    manager.page.keyboard.press("Enter")  # the focus is on the chip's remove button
    manager.wait_loaded(before)
    assert shown_filter(manager) == ""
    assert url_filter(manager) == {}
    assert manager.page.evaluate("document.activeElement.id") == "app-search-input"
    assert manager.errors == []


def test_picking_an_app_from_the_search_box(manager, dashboard):
    api = Api(manager, dashboard.url)
    manager.page.fill("#app-search-input", "fresh app")
    manager.page.wait_for_selector("#app-search-results button.pick")
    found = api.get("/api/v1/stats/apps", q="fresh app", page_size=8)
    buttons = manager.page.locator("#app-search-results button.pick")
    assert buttons.count() == len(found) > 0
    before = manager.loads()

    manager.page.press("#app-search-input", "ArrowDown")
    manager.page.keyboard.press("Enter")

    view = manager.wait_loaded(before)
    assert shown_filter(manager) == f"app:{found[0]['app_id']}"
    assert manager.page.input_value("#app-search-input") == ""
    assert not manager.page.is_visible("#app-search-results")
    assert_shows_the_api(manager, api, view, app_id=found[0]["app_id"])
    assert manager.errors == []


def test_a_filtered_page_follows_new_purchases_of_its_app(manager, dashboard):
    appstore = dashboard.appstore
    seeded = appstore.seeded
    # An app sold in the last 24 hours: one more sale of it leaves the set of apps sold in
    # every range the other tests look at (24 hours and longer) as it was.
    app_id = int(manager.page.locator("#top-apps tbody button.pick").first.get_attribute("data-id"))
    buyer = next(b for b in seeded.buyers if (b.user_id, app_id) not in seeded.bought)
    manager.page.goto(f"/?app_id={app_id}")  # a shared link
    manager.wait_loaded()
    manager.page.wait_for_selector('#live[data-live="on"]')
    bought = manager.kpis()["purchases"]
    loads = manager.loads()

    purchases.purchase(appstore.db, buyer, app_id)
    seeded.bought.add((buyer.user_id, app_id))
    dashboard.catch_up()

    view = manager.wait_loaded(loads)  # the stream said so; nothing was clicked
    assert shown_filter(manager) == f"app:{app_id}"
    assert manager.kpis()["purchases"] == bought + 1
    assert_shows_the_api(manager, Api(manager, dashboard.url), view, app_id=app_id)
    assert manager.errors == []


def test_the_credit_view_shows_granted_against_spent_per_bucket(manager, dashboard):
    api = Api(manager, dashboard.url)
    view = manager.choose_preset("30d")
    window = {"from": view.start.isoformat(), "to": view.end.isoformat()}
    asked = {"bucket": view.bucket, "tz": view.tz, **window}
    granted = api.get("/api/v1/stats/timeseries", metric="credits_granted", **asked)
    spent = api.get("/api/v1/stats/timeseries", metric="credits_spent", **asked)
    summary = api.get("/api/v1/stats/summary", **window)

    times, given, used = manager.page.evaluate(
        """() => {
            const chart = Chart.getChart("chart-credit");
            return [chart.data.times, chart.data.datasets[0].data, chart.data.datasets[1].data];
        }"""
    )
    assert times == [p["t"] for p in granted["points"]]
    assert given == [p["value"] for p in granted["points"]]
    assert used == [p["value"] for p in spent["points"]]
    assert sum(given) == summary["credits_granted"] == manager.kpis()["credits_granted"] > 0
    card = manager.page.locator('[data-series="credit"]')
    assert card.get_attribute("data-granted") == str(sum(given))
    assert card.get_attribute("data-spent") == str(sum(used))
    assert manager.errors == []

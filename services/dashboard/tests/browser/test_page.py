"""The management page in headless Chromium: its figures against the Appstore's own tables.

Every figure the page shows is compared with ground truth computed from the Appstore's
database for the very range, zone and buckets the page says it loaded.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .conftest import ARTIFACTS, SCREENSHOTS
from .history import MANAGER, PLAIN_USER, buy
from .pages import WINDOW_KPIS, DashboardPage, View

SERIES = ("purchases", "credits_spent", "apps_created")
HOUR = timedelta(hours=1)
KATHMANDU = ZoneInfo("Asia/Kathmandu")
# The elements that reach past the right edge of the screen (a sideways scroll on a phone).
WIDER_THAN_THE_SCREEN = """() => {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll("body *")]
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 0.5)
        .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
}"""


@pytest.fixture
def tab(context) -> DashboardPage:
    return DashboardPage(context.new_page()).open()


@pytest.fixture
def manager(tab) -> DashboardPage:
    tab.sign_in(MANAGER)
    tab.wait_loaded()
    return tab


def hour_widened(view: View) -> tuple[datetime, datetime]:
    """The window the top lists count: whole UTC hours around the page's range."""
    start = view.start.replace(minute=0, second=0, microsecond=0)
    end = view.end.replace(minute=0, second=0, microsecond=0)
    return start, end if end == view.end else end + HOUR


def assert_shows_truth(page: DashboardPage, truth, view: View) -> None:
    """KPI tiles, their previous period, the three charts and the top apps all equal the
    figures computed from the Appstore for ``view``."""
    window = truth.window(view.start, view.end)
    previous = truth.window(view.start - (view.end - view.start), view.start)
    shown = page.kpis()
    assert {name: shown[name] for name in WINDOW_KPIS} == window
    assert {name: shown[f"previous_{name}"] for name in WINDOW_KPIS} == previous
    for metric in SERIES:
        times, values = page.chart(metric)
        starts = [datetime.fromisoformat(t) for t in times]
        assert starts[0] == view.start
        assert starts == sorted(starts)
        assert values == truth.series(metric, [*starts, view.end]), metric
        assert page.series_table(metric) == values
        assert sum(values) == window[metric], metric
    assert page.top_apps() == truth.top_apps(*hour_widened(view))


def test_a_manager_sees_the_figures_of_the_seeded_events(manager, dashboard):
    truth = dashboard.appstore.truth
    view = manager.view()

    assert (view.tz, view.bucket) == ("Asia/Kathmandu", "hour")
    assert view.end - view.start == timedelta(hours=24)
    # Local hours in Kathmandu (UTC+5:45) start at a quarter past the UTC hour.
    assert view.start.astimezone(KATHMANDU).minute == 0
    assert view.start.minute == 15
    assert_shows_truth(manager, truth, view)
    shown = manager.kpis()
    # The script put purchases in this window and in the one before: the change is real.
    assert shown["purchases"] > 0
    assert shown["previous_purchases"] > 0
    change = (shown["purchases"] - shown["previous_purchases"]) / shown["previous_purchases"]
    assert f"{abs(change) * 100:.1f}".rstrip("0").rstrip(".") + "%" in manager.tile_text(
        "purchases"
    )
    assert len(manager.chart("purchases")[0]) == 24
    assert manager.all_time() == truth.totals()
    assert f"Complete through event #{truth.last_sequence()}" in manager.freshness()
    # Everything the Appstore logged is folded: no ever-growing lag, but "up to date".
    assert "up to date (last event " in manager.freshness()
    assert "lag" not in manager.freshness()
    assert manager.page.is_visible("#chart-purchases")
    assert not manager.page.is_visible("#notice")

    manager.page.wait_for_selector('#live[data-live="on"]')
    SCREENSHOTS.append(manager.screenshot(ARTIFACTS / "dashboard-laptop.png"))
    assert manager.errors == []


def test_changing_the_range_and_zone_then_downloading_what_is_shown(manager, dashboard):
    truth = dashboard.appstore.truth

    week = manager.choose_preset("7d")
    assert (week.bucket, week.end - week.start) == ("hour", timedelta(days=7))
    assert_shows_truth(manager, truth, week)

    month = manager.choose_preset("30d")
    assert month.bucket == "day"
    assert len(manager.chart("purchases")[0]) == 30
    assert_shows_truth(manager, truth, month)
    assert manager.kpis()["apps_created"] > manager.kpis()["previous_apps_created"]

    today = datetime.now(KATHMANDU).date()
    first = today - timedelta(days=9)
    custom = manager.choose_dates(first.isoformat(), today.isoformat())
    assert custom.start == datetime(first.year, first.month, first.day, tzinfo=KATHMANDU)
    assert (custom.bucket, custom.end - custom.start) == ("day", timedelta(days=10))
    assert_shows_truth(manager, truth, custom)

    in_utc = manager.choose_zone("UTC")
    assert (in_utc.tz, in_utc.start.utcoffset()) == ("UTC", timedelta(0))
    assert in_utc.start == datetime(first.year, first.month, first.day, tzinfo=UTC)
    assert_shows_truth(manager, truth, in_utc)

    for metric in SERIES:
        name, rows = manager.download_csv(metric)
        times, values = manager.chart(metric)
        assert rows == list(zip(times, values, strict=True)), metric
        assert name.startswith(f"{metric}_day_")
        assert name.endswith("_UTC.csv")
    assert manager.errors == []


def test_the_page_follows_new_events_from_the_stream(manager, dashboard):
    appstore = dashboard.appstore
    before = manager.kpis()["purchases"]
    loads = manager.loads()
    manager.page.wait_for_selector('#live[data-live="on"]')

    buy(appstore.db, appstore.seeded, random.Random(99))
    dashboard.catch_up()

    view = manager.wait_loaded(loads)  # the stream said so; nothing was clicked
    assert manager.kpis()["purchases"] == before + 1
    assert_shows_truth(manager, appstore.truth, view)
    manager.page.wait_for_function(
        "n => document.getElementById('freshness-text').textContent.includes('#' + n)",
        arg=f"{appstore.truth.last_sequence():,}",
    )
    assert manager.errors == []


def test_a_plain_user_is_told_they_are_not_allowed(tab):
    tab.sign_in(PLAIN_USER)

    tab.page.wait_for_selector("#forbidden", state="visible")
    assert tab.page.inner_text("#forbidden h2") == "Not allowed"
    message = tab.page.inner_text("#forbidden-message")
    assert "plain (role user) is not allowed" in message
    assert "management and admin" in message
    assert not tab.page.is_visible("#dashboard")
    assert tab.errors == []


def test_a_wrong_password_is_refused_on_the_form(tab):
    tab.sign_in(MANAGER, "not the password")

    tab.page.wait_for_selector("#sign-in-error", state="visible")
    assert tab.page.inner_text("#sign-in-error") == "Wrong username or password."
    assert not tab.page.is_visible("#dashboard")


def test_a_token_the_api_refuses_sends_back_to_sign_in(manager):
    forged = manager.page.evaluate(
        """() => {
            const token = sessionStorage.getItem("dashboard.token");
            const [header, payload] = token.split(".");
            return `${header}.${payload}.bm90IHRoZSBzaWduYXR1cmU`;
        }"""
    )
    manager.page.evaluate('t => sessionStorage.setItem("dashboard.token", t)', forged)
    manager.page.reload()

    manager.page.wait_for_selector("#sign-in", state="visible")
    assert "session has expired" in manager.page.inner_text("#sign-in-reason")
    assert manager.page.evaluate('sessionStorage.getItem("dashboard.token")') is None


def test_without_chart_js_the_tables_still_show_the_figures(context, dashboard):
    context.route(
        "**/vendor/chart.umd.js",
        lambda route: route.fulfill(status=503, content_type="application/json", body="{}"),
    )
    tab = DashboardPage(context.new_page()).open()
    tab.sign_in(MANAGER)
    view = tab.wait_loaded()

    assert "run `npm ci` in services/dashboard" in tab.page.inner_text("#notice")
    assert not tab.page.is_visible("#chart-purchases")
    edges = tab.page.eval_on_selector_all(
        '[data-series="purchases"] tbody tr', "rows => rows.length"
    )
    assert edges == 24
    starts = [view.start + i * HOUR for i in range(25)]
    assert tab.series_table("purchases") == dashboard.appstore.truth.series("purchases", starts)


def test_on_a_phone_the_page_fits_the_screen(browser, dashboard):
    phone = browser.new_context(
        base_url=dashboard.url,
        timezone_id="Asia/Kolkata",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        tab = DashboardPage(phone.new_page()).open()
        tab.sign_in(MANAGER)
        view = tab.wait_loaded()

        assert view.tz == "Asia/Kolkata"
        assert tab.page.evaluate(WIDER_THAN_THE_SCREEN) == []
        assert tab.page.is_visible("#chart-purchases")
        SCREENSHOTS.append(tab.screenshot(ARTIFACTS / "dashboard-phone.png"))
        assert tab.errors == []
    finally:
        phone.close()

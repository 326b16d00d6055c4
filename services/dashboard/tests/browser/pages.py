"""The management page as the tests see it: what a user does on it and what it shows."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .history import PASSWORD

#: The line Chromium logs for an answer of 401 or 403, which the page handles.
REFUSED = re.compile(r"^Failed to load resource: the server responded with a status of 40[13]")
#: Long enough for a slow shared machine; a wait that runs out is a failure, not a measure.
WAIT_MS = 30_000
WINDOW_KPIS = ("purchases", "credits_spent", "new_buyers", "users", "apps_created")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class View:
    """The range, zone and buckets the page last loaded."""

    start: datetime
    end: datetime
    tz: str
    bucket: str


class DashboardPage:
    """One browser tab on the Dashboard, with what went wrong in it collected."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        # Every console error counts (a script or style the Content-Security-Policy blocked
        # is one), except the browser's own line for a 401 or 403 the page answers on purpose
        # (a wrong password, a plain user, an expired token).
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not REFUSED.search(message.text)
                and self.errors.append(message.text)
            ),
        )

    def open(self) -> DashboardPage:
        self.page.goto("/")
        return self

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#sign-in-button")

    # waiting

    def loads(self) -> int:
        return int(self.page.get_attribute("#dashboard", "data-loads") or 0)

    def wait_loaded(self, after: int = 0) -> View:
        """Wait until the page has rendered more than ``after`` loads; its view then."""
        self.page.wait_for_function(
            """after => {
                const d = document.getElementById("dashboard");
                return d.dataset.state === "ready" && Number(d.dataset.loads || 0) > after;
            }""",
            arg=after,
        )
        return self.view()

    def view(self) -> View:
        data = self.page.eval_on_selector("#dashboard", "d => ({...d.dataset})")
        return View(moment(data["from"]), moment(data["to"]), data["tz"], data["bucket"])

    # acting

    def choose_preset(self, preset: str) -> View:
        before = self.loads()
        self.page.check(f'input[name="preset"][value="{preset}"]')
        return self.wait_loaded(before)

    def choose_dates(self, first: str, last: str) -> View:
        before = self.loads()
        self.page.check('input[name="preset"][value="custom"]')
        self.wait_loaded(before)
        before = self.loads()
        self.page.fill("#from-date", first)
        self.page.fill("#to-date", last)
        self.page.click("#apply-custom")
        return self.wait_loaded(before)

    def choose_zone(self, zone: str) -> View:
        before = self.loads()
        self.page.select_option("#tz", zone)
        return self.wait_loaded(before)

    def download_csv(self, metric: str) -> tuple[str, list[tuple[str, int]]]:
        """Click the metric's CSV link: the file's suggested name and its rows."""
        with self.page.expect_download() as download_info:
            self.page.click(f'a.csv[data-metric="{metric}"]')
        download = download_info.value
        text = Path(download.path()).read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["t", "value"], rows[:2]
        return download.suggested_filename, [(t, int(value)) for t, value in rows[1:]]

    # reading

    def kpis(self) -> dict[str, int | None]:
        """Each window tile's figure; ``previous`` ones under ``previous_<name>``."""
        tiles = self.page.eval_on_selector_all(
            "[data-kpi]",
            "tiles => tiles.map(t => [t.dataset.kpi, t.dataset.value, t.dataset.previous])",
        )
        figures: dict[str, int | None] = {}
        for name, value, previous in tiles:
            figures[name] = int(value) if value else None
            figures[f"previous_{name}"] = int(previous) if previous else None
        return figures

    def all_time(self) -> dict[str, int | None]:
        tiles = self.page.eval_on_selector_all(
            "[data-total]", "tiles => tiles.map(t => [t.dataset.total, t.dataset.allTime])"
        )
        return {name: int(value) if value else None for name, value in tiles}

    def tile_text(self, name: str) -> str:
        return self.page.inner_text(f'[data-kpi="{name}"]')

    def chart(self, metric: str) -> tuple[list[str], list[int]]:
        """The bucket starts and values the Chart.js instance of ``metric`` draws."""
        return self.page.evaluate(
            """id => {
                const chart = Chart.getChart(id);
                const set = chart.data.datasets[0];
                return [set.times, set.data];
            }""",
            f"chart-{metric}",
        )

    def series_table(self, metric: str) -> list[int]:
        """The values in the data table under the ``metric`` chart."""
        cells = self.page.eval_on_selector_all(
            f'[data-series="{metric}"] tbody td.num', "cells => cells.map(c => c.textContent)"
        )
        return [int(cell.replace(",", "")) for cell in cells]

    def top_apps(self) -> dict[str, tuple[int, int]]:
        rows = self.page.eval_on_selector_all(
            "#top-apps tbody tr",
            "rows => rows.map(r => [...r.querySelectorAll('td')].map(c => c.textContent))",
        )
        return {
            title: (int(bought.replace(",", "")), int(revenue.replace(",", "")))
            for _rank, title, bought, revenue in (row for row in rows if len(row) == 4)
        }

    def freshness(self) -> str:
        return self.page.inner_text("#freshness-text")

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

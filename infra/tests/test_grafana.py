"""Grafana's provisioning and the pipeline dashboard: valid, wired, and only real metrics.

Every panel query is parsed as PromQL, and every metric it selects must be defined in the
source of this repository (a name in a string literal, or a template such as
``f"{namespace}_http_requests_total"`` filled with a name that is also in the source), or
come from a known exporter outside it. A renamed metric fails here, not as an empty panel.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from topology import REPOSITORY, bind_mounts

GRAFANA = REPOSITORY / "infra/grafana"
DASHBOARD_FILE = GRAFANA / "dashboards/pipeline.json"
SOURCES = [
    *REPOSITORY.glob("*/src"),
    *REPOSITORY.glob("services/*/src"),
]
# Series no module here defines: Prometheus's own per-target `up`, and rabbitmq_prometheus's
# per-queue family (`/metrics/detailed?family=queue_coarse_metrics`, job rabbitmq-queues).
EXTERNAL_METRICS = {
    "up",
    "rabbitmq_detailed_queue_messages",
    "rabbitmq_detailed_queue_messages_ready",
    "rabbitmq_detailed_queue_messages_unacked",
}
# What prometheus_client appends to a counter's or a histogram's name.
SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")
# Grafana's variables, given a value so that the query parses as PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
# The pipeline-health panels an operator needs, by the metrics that show them.
REQUIRED_METRICS = {
    "appstore_relay_events_published_total": "publish rate",
    "appstore_outbox_backlog": "outbox backlog",
    "appstore_outbox_oldest_unpublished_age_seconds": "oldest unpublished event",
    "dashboard_events_folded_total": "fold rate by type",
    "dashboard_lag_seconds": "lag",
    "dashboard_last_sequence": "last sequence",
    "dashboard_gap_count": "gap count",
    "dashboard_events_dead_lettered_total": "dead letters",
    "appstore_http_request_duration_seconds_bucket": "Appstore HTTP latency",
    "dashboard_http_request_duration_seconds_bucket": "Dashboard HTTP latency",
    "dashboard_cache_requests_total": "cache hit ratio",
}


class SourceStrings:
    """The string literals and f-string templates of the repository's packages."""

    def __init__(self, roots: list[Path]) -> None:
        self.literals: set[str] = set()
        self.templates: list[re.Pattern] = []
        for root in roots:
            for path in root.rglob("*.py"):
                self._read(ast.parse(path.read_text(), filename=str(path)))

    def _read(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.literals.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                fixed = "".join(p.value for p in node.values if isinstance(p, ast.Constant))
                if len(fixed.replace("_", "")) < 4:
                    continue  # f"{a}_{b}" would match any name: it defines none
                parts = [
                    re.escape(part.value)
                    if isinstance(part, ast.Constant)
                    else "([a-z_][a-z0-9_]*)"
                    for part in node.values
                ]
                self.templates.append(re.compile("".join(parts)))

    def defines(self, name: str) -> bool:
        if name in self.literals:
            return True
        for template in self.templates:
            match = template.fullmatch(name)
            if match and match.groups() and all(g in self.literals for g in match.groups()):
                return True
        return False


def defined_in_source(metric: str, source: SourceStrings) -> bool:
    """Whether prometheus_client would expose ``metric`` for something the source defines."""
    candidates = {metric} | {metric.removesuffix(s) for s in SUFFIXES if metric.endswith(s)}
    return any(source.defines(name) for name in candidates)


def selected_metrics(expr: str) -> set[str]:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    names: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD_FILE.read_text())


@pytest.fixture(scope="module")
def panels(dashboard) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


@pytest.fixture(scope="module")
def queries(panels) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in panels for target in panel["targets"]]


@pytest.fixture(scope="module")
def source() -> SourceStrings:
    return SourceStrings(SOURCES)


def provisioning(kind: str) -> list[dict]:
    return [
        yaml.safe_load(path.read_text())
        for path in sorted((GRAFANA / "provisioning" / kind).glob("*.yml"))
    ]


def test_every_query_selects_only_metrics_that_exist(queries, source):
    unknown = {
        (title, metric)
        for title, expr in queries
        for metric in selected_metrics(expr)
        if metric not in EXTERNAL_METRICS and not defined_in_source(metric, source)
    }
    assert unknown == set()


def test_the_pipeline_health_panels_are_there(queries):
    shown = {metric for _, expr in queries for metric in selected_metrics(expr)}
    missing = {what for metric, what in REQUIRED_METRICS.items() if metric not in shown}
    assert missing == set()


def test_the_metric_check_finds_what_is_not_defined(source):
    assert defined_in_source("appstore_outbox_backlog", source)
    assert defined_in_source("dashboard_events_folded_total", source)
    assert defined_in_source("appstore_http_request_duration_seconds_bucket", source)
    assert not defined_in_source("appstore_outbox_backlog_size", source)
    assert not defined_in_source("nonsense_http_requests_total", source)
    assert selected_metrics(
        "sum(rate(a_total[$__rate_interval])) / on() group_left b{x='1'} or vector(0)"
    ) == {"a_total", "b"}


def test_every_panel_reads_the_provisioned_prometheus(panels):
    uids = {
        source["uid"]
        for datasources in provisioning("datasources")
        for source in datasources["datasources"]
        if source["type"] == "prometheus"
    }
    assert uids
    for panel in panels:
        assert panel["targets"], panel["title"]
        for item in (panel, *panel["targets"]):
            assert item["datasource"]["uid"] in uids, panel["title"]


def test_panel_ids_and_query_ids_are_unique(dashboard):
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        refs = [target["refId"] for target in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]


def test_panels_fit_the_grid_without_overlapping(dashboard):
    taken: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_the_datasource_points_at_the_compose_prometheus(services):
    for datasources in provisioning("datasources"):
        for source in datasources["datasources"]:
            host = source["url"].split("://")[1].split(":")[0]
            assert host in services


def test_grafana_loads_the_dashboard_folder(services):
    mounts = dict(bind_mounts(services["grafana"]))
    assert mounts["./infra/grafana/provisioning/datasources"] == (
        "/etc/grafana/provisioning/datasources"
    )
    assert mounts["./infra/grafana/provisioning/dashboards"] == (
        "/etc/grafana/provisioning/dashboards"
    )
    paths = [
        provider["options"]["path"]
        for providers in provisioning("dashboards")
        for provider in providers["providers"]
    ]
    assert paths == [mounts["./infra/grafana/dashboards"]]
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{paths[0]}/{DASHBOARD_FILE.name}"

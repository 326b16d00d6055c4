"""infra/prometheus/prometheus.yml: it scrapes compose services, and every one that has metrics."""

from __future__ import annotations

import pytest
import yaml
from topology import REPOSITORY, bind_mounts

PROMETHEUS_FILE = REPOSITORY / "infra/prometheus/prometheus.yml"


@pytest.fixture(scope="module")
def jobs() -> dict[str, dict]:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    return {job["job_name"]: job for job in config["scrape_configs"]}


def targets(job: dict) -> list[tuple[str, int]]:
    found = []
    for static in job.get("static_configs", []):
        for target in static["targets"]:
            host, _, port = target.rpartition(":")
            found.append((host, int(port)))
    return found


def test_every_target_is_a_compose_service(jobs, services):
    hosts = {host for job in jobs.values() for host, _ in targets(job)}
    assert hosts
    assert hosts <= set(services), f"not compose services: {hosts - set(services)}"


def test_every_service_of_the_system_is_scraped_where_it_serves_metrics(jobs):
    scraped = {target for job in jobs.values() for target in targets(job)}
    assert {
        ("appstore-api", 8000),
        ("appstore-relay", 9102),
        ("dashboard-worker", 9103),
        ("dashboard-api", 8001),
        ("rabbitmq", 15692),
    } <= scraped


def test_every_long_running_service_built_here_is_scraped(jobs, services):
    built = {
        name
        for name, service in services.items()
        if "build" in service and service.get("restart", "no") != "no"
    }
    scraped = {host for job in jobs.values() for host, _ in targets(job)}
    assert built <= scraped, f"not scraped: {built - scraped}"


def test_metric_ports_match_the_services_settings(services):
    relay = services["appstore-relay"]["environment"]
    worker = services["dashboard-worker"]["environment"]
    assert relay["APPSTORE_RELAY_METRICS_PORT"] == "9102"
    # The relay listens on 127.0.0.1 unless told otherwise; Prometheus is another container.
    assert relay["APPSTORE_RELAY_METRICS_HOST"] == "0.0.0.0"
    assert worker["DASHBOARD_WORKER_METRICS_PORT"] == "9103"


def test_rabbitmq_serves_prometheus_metrics():
    plugins = (REPOSITORY / "infra/rabbitmq/enabled_plugins").read_text()
    assert "rabbitmq_prometheus" in plugins
    assert "rabbitmq_management" in plugins


def test_the_rabbitmq_plugin_list_is_mounted(services):
    mounts = dict(bind_mounts(services["rabbitmq"]))
    assert mounts["./infra/rabbitmq/enabled_plugins"] == "/etc/rabbitmq/enabled_plugins"


def test_prometheus_reads_this_file(services):
    mounts = dict(bind_mounts(services["prometheus"]))
    assert mounts["./infra/prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"

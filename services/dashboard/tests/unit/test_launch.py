"""The checks before a Dashboard process starts, and the worker's Dramatiq command line."""

from __future__ import annotations

import pytest

from dashboard import launch
from dashboard.config import Settings


def settings(**overrides) -> Settings:
    return Settings(database_url="sqlite://", **overrides)


def test_the_worker_runs_the_metrics_and_healing_fork_processes_by_default():
    arguments = launch.dramatiq_arguments(settings(), processes=2, threads=64)

    assert arguments == [
        "dashboard.worker.app",
        "--skip-logging",
        "--processes",
        "2",
        "--threads",
        "64",
        "--fork-function",
        "dashboard.worker.metrics:serve_metrics",
        "--fork-function",
        "dashboard.worker.healing:heal_gaps",
    ]


def test_a_zero_port_and_interval_run_no_fork_processes():
    quiet = settings(worker_metrics_port=0, sync_interval_seconds=0.0)

    arguments = launch.dramatiq_arguments(quiet, processes=1, threads=8)

    assert "--fork-function" not in arguments


def test_commands_that_need_rabbitmq_refuse_the_embedded_broker():
    with pytest.raises(launch.LaunchError, match="BROKER_URL must be a RabbitMQ URL"):
        launch.rabbitmq_url(settings())
    assert launch.rabbitmq_url(settings(broker_url="amqps://h/")) == "amqps://h/"
    nodes = "amqp://u:p@h:5681/;amqp://u:p@h:5682/;amqp://u:p@h:5683/"
    assert launch.rabbitmq_url(settings(broker_url=nodes)) == nodes
    with pytest.raises(launch.LaunchError, match="several joined by ';'"):
        launch.rabbitmq_url(settings(broker_url="amqp://h:1/;redis://h/"))


def test_the_appstore_client_needs_a_service_account():
    with pytest.raises(launch.Misuse, match="DASHBOARD_SERVICE_USERNAME"):
        launch.appstore_client(settings(service_username="svc"))


def test_the_embedded_worker_refuses_more_than_one_process():
    account = settings(service_username="svc", service_password="pw")

    with pytest.raises(launch.Misuse, match="--processes needs RabbitMQ"):
        launch.run_embedded_worker(account, processes=2, threads=8)


def test_an_unmigrated_database_is_refused_with_the_fix(tmp_path):
    with pytest.raises(launch.LaunchError, match="run `dashboard db upgrade` first"):
        launch.require_tables(f"sqlite:///{tmp_path / 'empty.db'}")

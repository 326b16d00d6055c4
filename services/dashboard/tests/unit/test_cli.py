"""The ``dashboard`` command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dashboard.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_config_prints_settings_with_secrets_masked(runner):
    env = {
        "DASHBOARD_DATABASE_URL": "postgresql://dash:db-secret@db:5432/dashboard",
        "BROKER_URL": "amqp://guest:broker-secret@rabbit:5672/",
        "REDIS_URL": "redis://:redis-secret@cache:6379/0",
        "APPSTORE_URL": "http://appstore:8000",
        "DASHBOARD_SERVICE_USERNAME": "dashboard-svc",
        "DASHBOARD_SERVICE_PASSWORD": "svc-secret",
        "DASHBOARD_JWKS_CACHE_SECONDS": "120",
    }

    result = runner.invoke(main, ["config"], env=env)

    assert result.exit_code == 0, result.output
    assert "secret" not in result.output
    assert json.loads(result.output) == {
        "database_url": "postgresql://dash:****@db:5432/dashboard",
        "broker_url": "amqp://guest:****@rabbit:5672/",
        "redis_url": "redis://:****@cache:6379/0",
        "appstore_url": "http://appstore:8000",
        "service_username": "dashboard-svc",
        "service_password": "****",
        "jwks_cache_seconds": 120,
        "cache_ttl_seconds": 60,
        "db_pool_size": 10,
        "fold_batch_max": 1000,
        "worker_threads": 4,
        "sync_interval_seconds": 15.0,
        "heal_after_seconds": 30.0,
        "worker_metrics_port": 9103,
        "serve_workers": 2,
        "serve_threads": 32,
        "assets_dir": None,
    }


def test_config_shows_unset_password_as_null(runner):
    result = runner.invoke(main, ["config"], env={"DASHBOARD_SERVICE_PASSWORD": None})

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["service_password"] is None


def test_config_reports_invalid_setting_without_traceback(runner):
    result = runner.invoke(main, ["config"], env={"DASHBOARD_JWKS_CACHE_SECONDS": "soon"})

    assert result.exit_code == 1
    assert "DASHBOARD_JWKS_CACHE_SECONDS" in result.output
    assert "Traceback" not in result.output


def test_version(runner):
    result = runner.invoke(main, ["--version"])

    assert result.exit_code == 0
    assert result.output.startswith("dashboard, version ")


@pytest.mark.parametrize(
    ("command", "variable"),
    [(["worker"], "DASHBOARD_FOLD_BATCH_MAX"), (["serve"], "DASHBOARD_WORKERS")],
)
def test_a_bad_process_setting_stops_the_command_by_name(runner, command, variable):
    result = runner.invoke(main, command, env={variable: "0"})

    assert result.exit_code == 1
    assert f"{variable} must be a positive integer" in result.output
    assert "Traceback" not in result.output


def test_the_worker_refuses_an_unmigrated_database(runner, tmp_path):
    env = {"DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}

    result = runner.invoke(main, ["worker"], env=env)

    assert result.exit_code == 1
    assert "run `dashboard db upgrade` first" in result.output


def test_sync_without_a_service_account_is_a_usage_error(runner, tmp_path):
    env = {
        "DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "DASHBOARD_SERVICE_USERNAME": None,
        "DASHBOARD_SERVICE_PASSWORD": None,
    }

    result = runner.invoke(main, ["sync"], env=env)

    assert result.exit_code == 2
    assert "DASHBOARD_SERVICE_USERNAME" in result.output

"""Settings.from_env: defaults, overrides and invalid values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.config import Settings, mask_url_password
from dashboard.errors import ConfigError


def test_defaults_with_empty_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    settings = Settings.from_env({})

    expected_db = (tmp_path / ".data" / "dashboard.db").absolute()
    assert settings == Settings(
        database_url=f"sqlite:///{expected_db.as_posix()}",
        broker_url="memory://",
        redis_url=None,
        appstore_url="http://127.0.0.1:8000",
        service_username=None,
        service_password=None,
        jwks_cache_seconds=300,
    )
    assert Path(settings.database_url.removeprefix("sqlite:///")).is_absolute()
    assert not (tmp_path / ".data").exists()


def test_values_come_from_given_environ():
    environ = {
        "DASHBOARD_DATABASE_URL": "postgresql+psycopg2://dash:pw@db:5432/dashboard",
        "BROKER_URL": "amqp://guest:guest@rabbit:5672/",
        "REDIS_URL": "redis://cache:6379/0",
        "APPSTORE_URL": "http://appstore:8000/",
        "DASHBOARD_SERVICE_USERNAME": "dashboard-svc",
        "DASHBOARD_SERVICE_PASSWORD": "s3cret-pass",
        "DASHBOARD_JWKS_CACHE_SECONDS": "60",
    }

    settings = Settings.from_env(environ)

    assert settings == Settings(
        database_url="postgresql+psycopg2://dash:pw@db:5432/dashboard",
        broker_url="amqp://guest:guest@rabbit:5672/",
        redis_url="redis://cache:6379/0",
        appstore_url="http://appstore:8000",
        service_username="dashboard-svc",
        service_password="s3cret-pass",
        jwks_cache_seconds=60,
    )


def test_empty_variables_count_as_unset():
    settings = Settings.from_env({"REDIS_URL": "", "BROKER_URL": "  "})

    assert settings.redis_url is None
    assert settings.broker_url == "memory://"


@pytest.mark.parametrize("raw", ["soon", "1.5", "-1"])
def test_bad_jwks_cache_seconds_is_a_config_error(raw):
    with pytest.raises(ConfigError, match="DASHBOARD_JWKS_CACHE_SECONDS"):
        Settings.from_env({"DASHBOARD_JWKS_CACHE_SECONDS": raw})


# --- The worker's and the server's settings ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "size"),
    [(None, 1000), ("", 1000), ("  ", 1000), ("1", 1), (" 64 ", 64), ("2000", 2000)],
)
def test_the_fold_batch_size_comes_from_the_environment(raw, size):
    environ = {} if raw is None else {"DASHBOARD_FOLD_BATCH_MAX": raw}
    assert Settings.from_env(environ).fold_batch_max == size


@pytest.mark.parametrize("raw", ["0", "-5", "many", "2.5", "1e3"])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused_by_name(raw):
    with pytest.raises(ValueError, match=r"DASHBOARD_FOLD_BATCH_MAX must be a positive integer"):
        Settings.from_env({"DASHBOARD_FOLD_BATCH_MAX": raw})


@pytest.mark.parametrize(("raw", "threads"), [(None, 4), ("", 4), ("1", 1), (" 16 ", 16)])
def test_the_worker_threads_come_from_the_environment(raw, threads):
    environ = {} if raw is None else {"DASHBOARD_WORKER_THREADS": raw}
    assert Settings.from_env(environ).worker_threads == threads


@pytest.mark.parametrize("raw", ["0", "-2", "some"])
def test_worker_threads_that_are_not_a_positive_integer_are_refused_by_name(raw):
    with pytest.raises(ConfigError, match=r"DASHBOARD_WORKER_THREADS must be a positive integer"):
        Settings.from_env({"DASHBOARD_WORKER_THREADS": raw})


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(None, 15.0), ("", 15.0), ("0", 0.0), ("2.5", 2.5), (" 30 ", 30.0)],
)
def test_the_healing_interval_comes_from_the_environment(raw, seconds):
    environ = {} if raw is None else {"DASHBOARD_SYNC_INTERVAL_SECONDS": raw}
    assert Settings.from_env(environ).sync_interval_seconds == seconds


@pytest.mark.parametrize(("raw", "seconds"), [(None, 30.0), ("0", 0.0), ("2.5", 2.5)])
def test_the_transit_time_before_healing_comes_from_the_environment(raw, seconds):
    environ = {} if raw is None else {"DASHBOARD_HEAL_AFTER_SECONDS": raw}
    assert Settings.from_env(environ).heal_after_seconds == seconds


@pytest.mark.parametrize(
    "name", ["DASHBOARD_SYNC_INTERVAL_SECONDS", "DASHBOARD_HEAL_AFTER_SECONDS"]
)
@pytest.mark.parametrize("raw", ["-1", "soon"])
def test_a_bad_healing_interval_is_refused_by_name(name, raw):
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: raw})


@pytest.mark.parametrize(("raw", "port"), [(None, 9103), ("", 9103), ("0", 0), ("65535", 65535)])
def test_the_worker_metrics_port_comes_from_the_environment(raw, port):
    environ = {} if raw is None else {"DASHBOARD_WORKER_METRICS_PORT": raw}
    assert Settings.from_env(environ).worker_metrics_port == port


@pytest.mark.parametrize("raw", ["-1", "65536", "http"])
def test_a_bad_worker_metrics_port_is_refused_by_name(raw):
    with pytest.raises(ConfigError, match="DASHBOARD_WORKER_METRICS_PORT must be a port number"):
        Settings.from_env({"DASHBOARD_WORKER_METRICS_PORT": raw})


def test_the_server_sizes_and_assets_dir_come_from_the_environment():
    settings = Settings.from_env(
        {"DASHBOARD_WORKERS": "4", "DASHBOARD_THREADS": "8", "DASHBOARD_ASSETS_DIR": "/srv/nm"}
    )

    assert (settings.serve_workers, settings.serve_threads) == (4, 8)
    assert settings.assets_dir == "/srv/nm"
    assert Settings.from_env({}).serve_workers == 2
    assert Settings.from_env({}).serve_threads == 32
    assert Settings.from_env({}).assets_dir is None


@pytest.mark.parametrize(
    "name", ["DASHBOARD_WORKERS", "DASHBOARD_THREADS", "DASHBOARD_DB_POOL_SIZE"]
)
@pytest.mark.parametrize("raw", ["0", "two"])
def test_a_size_below_one_is_refused_by_name(name, raw):
    with pytest.raises(ConfigError, match=f"{name} must be a positive integer"):
        Settings.from_env({name: raw})


def test_settings_are_frozen():
    settings = Settings(database_url="sqlite://")

    with pytest.raises(AttributeError):
        settings.broker_url = "amqp://elsewhere/"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("amqp://guest:guest@rabbit:5672/", "amqp://guest:****@rabbit:5672/"),
        ("redis://:pw@cache:6379/0", "redis://:****@cache:6379/0"),
        ("postgresql://u:p/w@db/dash", "postgresql://u:****@db/dash"),
        ("postgresql://u@db/dash", "postgresql://u@db/dash"),
        ("sqlite:////tmp/dash.db", "sqlite:////tmp/dash.db"),
        ("memory://", "memory://"),
        (
            "amqp://u:a@h:5681/;amqp://u:b@h:5682/",
            "amqp://u:****@h:5681/;amqp://u:****@h:5682/",
        ),
    ],
)
def test_mask_url_password(url, masked):
    assert mask_url_password(url) == masked

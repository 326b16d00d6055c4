"""Settings.from_env: defaults, overrides and invalid values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.config import ConfigError, Settings, mask_url_password


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
    ],
)
def test_mask_url_password(url, masked):
    assert mask_url_password(url) == masked

"""Fixtures of the infra tests: the deployable topology, read without a Docker engine.

The tests check the files themselves: the compose file against the Compose specification,
the files it names, the Dockerfiles, Prometheus and Grafana.
"""

from __future__ import annotations

import pytest
from topology import interpolated, load_compose


@pytest.fixture(scope="session")
def raw_compose() -> dict:
    """docker-compose.yml as written (YAML anchors and merge keys resolved)."""
    return load_compose()


@pytest.fixture(scope="session")
def compose(raw_compose) -> dict:
    """docker-compose.yml as Compose runs it with no variable set: every default applied."""
    return interpolated(raw_compose, {})


@pytest.fixture(scope="session")
def services(compose) -> dict[str, dict]:
    return compose["services"]

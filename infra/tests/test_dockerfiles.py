"""The Dockerfiles docker-compose.yml builds: what they copy exists and reaches the build."""

from __future__ import annotations

import fnmatch
import json
import shlex

import pytest
from dockerfile_parse import DockerfileParser
from topology import REPOSITORY, load_compose

BUILDS = sorted(
    {
        (service["build"]["context"], service["build"].get("dockerfile", "Dockerfile"))
        for service in load_compose()["services"].values()
        if "build" in service
    }
)


def instructions(context: str, dockerfile: str) -> list[dict]:
    with (REPOSITORY / context / dockerfile).open("rb") as file:
        return DockerfileParser(fileobj=file).structure


def arguments(value: str) -> tuple[dict[str, str], list[str]]:
    """The ``--flag=value`` options and the other words of a COPY/ADD instruction."""
    words = json.loads(value) if value.lstrip().startswith("[") else shlex.split(value)
    flags = dict(word[2:].partition("=")[::2] for word in words if word.startswith("--"))
    return flags, [word for word in words if not word.startswith("--")]


def ignored_patterns(context: str) -> list[str]:
    ignore = REPOSITORY / context / ".dockerignore"
    if not ignore.exists():
        return []
    lines = (line.strip() for line in ignore.read_text().splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` (or a folder holding it) out of the context."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        pattern = pattern.removeprefix("**/")
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
        if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def test_compose_builds_the_two_service_images():
    assert [dockerfile for _, dockerfile in BUILDS] == [
        "services/appstore/Dockerfile",
        "services/dashboard/Dockerfile",
    ]


@pytest.mark.parametrize(("context", "dockerfile"), BUILDS)
def test_copy_sources_exist_in_the_build_context(context, dockerfile):
    patterns = ignored_patterns(context)
    stages: list[str] = []
    copied = 0
    for instruction in instructions(context, dockerfile):
        if instruction["instruction"] == "FROM":
            words = instruction["value"].split()
            stages.append(words[2] if len(words) == 3 and words[1].upper() == "AS" else "")
        if instruction["instruction"] not in ("COPY", "ADD"):
            continue
        flags, words = arguments(instruction["value"])
        sources = words[:-1]
        if "from" in flags:
            assert flags["from"] in stages[:-1], f"{dockerfile}: no earlier stage {flags['from']}"
            continue
        for source in sources:
            copied += 1
            assert (REPOSITORY / context / source).exists(), f"{dockerfile}: no {source}"
            assert not is_ignored(source, patterns), f"{dockerfile}: .dockerignore drops {source}"
    assert copied


@pytest.mark.parametrize(("context", "dockerfile"), BUILDS)
def test_runtime_stage_runs_as_a_user_and_has_a_command(context, dockerfile):
    structure = instructions(context, dockerfile)
    last_from = max(i for i, step in enumerate(structure) if step["instruction"] == "FROM")
    final = [step["instruction"] for step in structure[last_from:]]
    users = [step["value"] for step in structure[last_from:] if step["instruction"] == "USER"]
    assert users, f"{dockerfile}: the runtime stage runs as root"
    assert users[-1] not in ("root", "0")
    assert "CMD" in final


def test_dashboard_image_has_the_page_libraries_beside_the_package():
    structure = instructions(".", "services/dashboard/Dockerfile")
    runs = [step["value"] for step in structure if step["instruction"] == "RUN"]
    assert any(run.startswith("npm ci --omit=dev") for run in runs)
    copies = [arguments(step["value"]) for step in structure if step["instruction"] == "COPY"]
    targets = {words[-1] for flags, words in copies if flags.get("from")}
    assert "/app/services/dashboard/node_modules" in targets
    assert "/app/services/dashboard" in targets
    environment = " ".join(step["value"] for step in structure if step["instruction"] == "ENV")
    assert "DASHBOARD_ASSETS_DIR=/app/services/dashboard/node_modules" in environment


def test_dockerignore_reading():
    patterns = ["**/tests", ".venv", "**/node_modules"]
    assert is_ignored("services/appstore/tests", patterns)
    assert is_ignored("services/dashboard/node_modules/chart.js", patterns)
    assert is_ignored(".venv", patterns)
    assert not is_ignored("services/dashboard/package.json", patterns)


@pytest.mark.parametrize(("context", "dockerfile"), BUILDS)
def test_both_images_serve_the_api_docs_bundles_from_their_own_node_stage(context, dockerfile):
    structure = instructions(context, dockerfile)
    runs = [step["value"] for step in structure if step["instruction"] == "RUN"]
    assert "npm ci --omit=dev --ignore-scripts --no-audit --no-fund" in runs
    copies = [arguments(step["value"]) for step in structure if step["instruction"] == "COPY"]
    assert (["servicekit/package.json", "servicekit/package-lock.json", "./"]) in [
        words for _, words in copies
    ]
    targets = {words[-1] for flags, words in copies if flags.get("from") == "docs-assets"}
    assert targets == {
        "/opt/api-docs/node_modules/swagger-ui-dist",
        "/opt/api-docs/node_modules/redoc/bundles",
    }
    environment = " ".join(step["value"] for step in structure if step["instruction"] == "ENV")
    assert "API_DOCS_ASSETS_DIR=/opt/api-docs/node_modules" in environment

"""docker-compose.yml read the way `docker compose` reads it: variables, mounts, volumes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPOSITORY / "docker-compose.yml"

# The Compose specification's interpolation: $$ is a literal $, and ${NAME} / $NAME may carry
# a default (:- or -), a required-error (:? or ?) or an alternative (:+ or +).
_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?+])(?P<argument>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, environment: dict[str, str]) -> str:
    """``text`` with every variable reference replaced as Compose does."""

    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        operator, argument = match["operator"], match["argument"] or ""
        value = environment.get(name)
        unset_or_empty = not value if operator and operator.startswith(":") else value is None
        if operator in (":-", "-"):
            return argument if unset_or_empty else value
        if operator in (":+", "+"):
            return "" if unset_or_empty else argument
        if operator in (":?", "?") and unset_or_empty:
            raise KeyError(f"{name}: {argument}")
        return value or ""

    return _REFERENCE.sub(replace, text)


def variable_references(text: str) -> list[tuple[str, str | None]]:
    """(name, operator) of each variable reference in ``text``; ``$$`` escapes are skipped."""
    return [
        (match["braced"] or match["named"], match["operator"])
        for match in _REFERENCE.finditer(text)
        if not match["escaped"]
    ]


def interpolated(node: Any, environment: dict[str, str]) -> Any:
    """A copy of a loaded YAML tree with every string value interpolated (keys are not)."""
    if isinstance(node, dict):
        return {key: interpolated(value, environment) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value, environment) for value in node]
    if isinstance(node, str):
        return interpolate(node, environment)
    return node


def strings(node: Any):
    """Every string value in a loaded YAML tree."""
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host path, container path) of a service's bind mounts, short and long syntax."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            if source.startswith((".", "/", "~")):
                mounts.append((source, rest.split(":")[0]))
        elif volume.get("type") == "bind":
            mounts.append((volume["source"], volume["target"]))
    return mounts


def named_volumes(service: dict) -> list[str]:
    """The named volumes a service mounts."""
    names = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, separator, _ = volume.partition(":")
            if separator and not source.startswith((".", "/", "~")):
                names.append(source)
        elif volume.get("type") == "volume" and volume.get("source"):
            names.append(volume["source"])
    return names


def load_compose() -> dict:
    """docker-compose.yml as written (YAML anchors and merge keys resolved)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())

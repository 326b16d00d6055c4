"""Upcasters bring an old ``event_version`` of a payload up to the current one.

An upcaster is registered for ``(event_type, from_version)`` and turns the wire ``data``
of version N into that of N + 1. :func:`upcast` chains them on decode, so a consumer only
ever sees the current version; old schemas are never kept, only these steps.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .errors import InvalidPayload, UnsupportedEventVersion
from .registry import get_event_type

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def register_upcaster(event_type: str, from_version: int, func: Upcaster) -> Upcaster:
    """Register ``func`` to turn ``event_type`` data of ``from_version`` into the next version.

    Parameters:
        event_type, from_version:
            The step this function performs: ``from_version`` -> ``from_version + 1``.
        func: Takes the JSON ``data`` dict (a private copy it may change) and returns the new one.

    Returns:
        Upcaster: ``func`` itself.

    Raises:
        ValueError: If a function is already registered for that step: two would be ambiguous.
    """
    key = (event_type, from_version)
    if key in _UPCASTERS:
        raise ValueError(f"an upcaster for {event_type} v{from_version} is already registered")
    _UPCASTERS[key] = func
    return func


def unregister_upcaster(event_type: str, from_version: int) -> None:
    """Remove the upcaster for that step, if there is one."""
    _UPCASTERS.pop((event_type, from_version), None)


def upcast(
    event_type: str, version: int, data: dict[str, Any], *, event_id: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Bring ``data`` of ``event_type`` at ``version`` up to the current version.

    Parameters:
        event_type, version: What the envelope says the data is.
        data: The wire payload; it is not modified.
        event_id: Only used to make errors more useful.

    Returns:
        tuple: ``(current_version, data)``; ``data`` is returned as given when already current.

    Raises:
        UnknownEventType: If the type is unknown.
        UnsupportedEventVersion:
            If ``version`` is newer than the current one, or a step is missing.
        InvalidPayload: If an upcaster fails or does not return a dict.
    """
    current = get_event_type(event_type, event_id=event_id).version
    context = {"event_id": event_id, "event_type": event_type}
    if version > current:
        raise UnsupportedEventVersion(
            f"version {version} is newer than the supported {current}",
            event_version=version,
            supported_version=current,
            **context,
        )
    if version < current:
        data = copy.deepcopy(data)
    while version < current:
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            raise UnsupportedEventVersion(
                f"no upcaster from version {version} (current is {current})",
                event_version=version,
                supported_version=current,
                **context,
            )
        try:
            data = step(data)
        except Exception as exc:  # an upcaster meeting odd old data must not crash decode
            raise InvalidPayload(f"upcasting from v{version} failed: {exc!r}", **context) from exc
        if not isinstance(data, dict):
            raise InvalidPayload(f"upcaster from v{version} did not return a dict", **context)
        version += 1
    return version, data

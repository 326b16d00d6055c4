"""JSON logs: one object per line on stdout, from every process and every library.

Standard ``logging`` stays the API (``logging.getLogger(__name__)`` everywhere); structlog
only renders. Its context variables carry per-request and per-event fields, so a line
logged deep inside a purchase or a fold still names its ``request_id`` or ``event_id``
without passing them down.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.config
import os
from collections.abc import Iterator
from typing import Any

import structlog

LEVEL_VARIABLE = "LOG_LEVEL"

_service = "appstore-events"


def _add_service(_logger, _method, event_dict: dict[str, Any]) -> dict[str, Any]:
    event_dict.setdefault("service", _service)
    return event_dict


def _rename_message(_logger, _method, event_dict: dict[str, Any]) -> dict[str, Any]:
    # ELK and Loki look for "message"; structlog calls it "event", a word this project
    # uses for something else.
    event_dict["message"] = event_dict.pop("event", "")
    return event_dict


# One encoder for every line: json.dumps with any option (structlog passes ``default``) builds a
# new encoder per call, which cost more than the encoding itself on a request's access line.
_ENCODER = json.JSONEncoder(default=repr, ensure_ascii=True)


def _dumps(event_dict: dict[str, Any], **_options: Any) -> str:
    return _ENCODER.encode(event_dict)


def json_formatter() -> logging.Formatter:
    """A ``logging`` formatter that renders each record as one JSON object.

    Fields: ``timestamp`` (ISO-8601 UTC), ``level``, ``logger``, ``service``, ``message``,
    any bound context (``request_id``, ``event_id``, ``sequence``...), ``exception``.

    The lines name no source file, thread or process, so records stop gathering them (the
    switches of the logging documentation's "Optimization" section): looking up the caller's
    frame and the process name cost more than rendering a request's access line.
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _add_service,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _rename_message,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
    )


def logging_config(service: str, level: str | None = None) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` dict: every logger to stdout as JSON.

    gunicorn takes it as ``logconfig_dict``; its own loggers propagate to the root, so
    its lines are JSON too and each appears once.
    """
    global _service
    _service = service
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": _level(level), "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"handlers": [], "propagate": True},
            # servicekit.requests writes the access lines, with request ids.
            "gunicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }


def configure(service: str, level: str | None = None) -> None:
    """Send every log record of this process to stdout as JSON, named ``service``.

    Parameters:
        service: the process's name in each line, e.g. ``appstore-relay``.
        level: a level name; ``LOG_LEVEL`` or INFO when omitted.
    """
    logging.config.dictConfig(logging_config(service, level))


def bind(**fields: Any) -> None:
    """Put ``fields`` on every line this thread (or task) logs until :func:`clear`."""
    structlog.contextvars.bind_contextvars(**fields)


def clear() -> None:
    """Forget every field bound in this thread (or task)."""
    structlog.contextvars.clear_contextvars()


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Put ``fields`` on every line logged inside the block."""
    with structlog.contextvars.bound_contextvars(**fields):
        yield


def _level(level: str | None) -> str:
    name = (level or os.environ.get(LEVEL_VARIABLE) or "INFO").strip().upper()
    if not isinstance(logging.getLevelName(name), int):
        raise ValueError(f"{LEVEL_VARIABLE} must be a logging level name, got {name!r}")
    return name

"""JSON logs: one object per line on stdout, from every process and every library.

Standard ``logging`` stays the API (``logging.getLogger(__name__)`` everywhere); the lines
are structlog's JSON. Its context variables carry per-request and per-event fields, so a
line logged deep inside a purchase or a fold still names its ``request_id`` or ``event_id``
without passing them down.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.config
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import structlog

LEVEL_VARIABLE = "LOG_LEVEL"

_service = "appstore-events"


# The attributes every LogRecord has: anything else on a record came as ``extra`` fields.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("name", 0, "pathname", 0, "msg", (), None)))
# One encoder for every line: json.dumps with any option builds a new encoder per call, which
# cost more than the encoding itself on a request's access line.
_ENCODER = json.JSONEncoder(default=repr, ensure_ascii=True)


class JSONFormatter(logging.Formatter):
    """Renders each ``logging`` record as one JSON object.

    Fields, in this order: any bound context (``request_id``, ``event_id``, ``sequence``...),
    ``level``, ``logger``, the record's ``extra`` fields, ``timestamp`` (ISO-8601 UTC),
    ``service``, ``exception`` when there is one, ``message``.

    The line is structlog's (``ProcessorFormatter`` with the context merged, level, logger
    name, extras, timestamp and exception added, the message renamed, JSON rendered), built
    in one pass over the record: the chain of processors, the copy of the record and the
    formatting of its copy cost more than all of a request's other logging.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"event": record.getMessage()}
        if record.exc_info:
            line["exc_info"] = record.exc_info
        if record.stack_info:
            line["stack_info"] = record.stack_info
        for name, value in structlog.contextvars.get_contextvars().items():
            line.setdefault(name, value)
        level = record.levelname.lower()
        line["level"] = "warning" if level == "warn" else level
        line["logger"] = record.name
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES:
                line[name] = value
        line["timestamp"] = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
        line.setdefault("service", _service)
        if "exc_info" in line:
            line = structlog.processors.format_exc_info(None, level, line)
        # ELK and Loki look for "message"; structlog calls it "event", a word this project
        # uses for something else.
        line["message"] = line.pop("event", "")
        return _ENCODER.encode(line)


def json_formatter() -> logging.Formatter:
    """A ``logging`` formatter that renders each record as one JSON object (see
    :class:`JSONFormatter`).

    The lines name no source file, thread or process, so records stop gathering them (the
    switches of the logging documentation's "Optimization" section): looking up the caller's
    frame and the process name cost more than rendering a request's access line.
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    return JSONFormatter()


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

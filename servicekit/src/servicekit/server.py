"""Serving a Flask application factory under gunicorn, with JSON logs and shared metrics."""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import ThreadWorker

from servicekit.logs import logging_config


def _child_exit(_server, worker) -> None:
    # Drop a dead worker's live gauges from the shared metrics directory.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _load(factory: str) -> Callable[[], Any]:
    module, _, name = factory.partition(":")
    return getattr(importlib.import_module(module), name)


class NoAccessLines(Logger):
    """gunicorn's logger without its access lines: :mod:`servicekit.requests` writes them,
    with request ids. With a logging config set, gunicorn would otherwise gather every
    response's fields for a line that its silenced access logger then drops."""

    access_log_enabled = False

    def access(self, resp, req, environ, request_time) -> None:
        return None


class QuittingThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, minus a deadlock when it is told to quit.

    Its quit handler shuts the thread pool down from inside the signal handler. When the
    signal lands while the main thread is inside ``ThreadPoolExecutor.submit`` (it holds
    the pool's lock while starting a thread for a new connection), the handler waits for
    that lock forever; the worker then hangs until the master kills it at the end of the
    graceful timeout (seen: 1 stop in 10 took 10.5 s instead of 1). The pool needs no
    shutting down here: the interpreter's exit stops its idle threads.
    """

    def handle_quit(self, sig, frame) -> None:
        Worker.handle_quit(self, sig, frame)


class FactoryServer(BaseApplication):
    """Calls the factory in each worker: nothing with threads or connections is built in
    the master and inherited across the fork."""

    def __init__(self, factory: str, options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        self.cfg.set("child_exit", _child_exit)

    def load(self):
        return _load(self.factory)()


def serve(
    factory: str,
    *,
    service: str,
    host: str,
    port: int,
    workers: int,
    threads: int,
    **options: Any,
) -> None:
    """Run ``factory`` (``"package.module:function"``) under gunicorn until interrupted.

    Parameters:
        factory: where the application factory is; called once per worker process.
        service: the name in every log line.
        threads: threads per process. Every worker is gthread
            (:class:`QuittingThreadWorker`), even with one thread: it keeps connections alive
            between requests (a sync worker closes each one, so every request pays a new TCP
            connection), and with several threads a process serves others while one waits on
            its database, or holds a long-lived response such as Server-Sent Events.
        options: further gunicorn settings.
    """
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"{service}-metrics-")
    settings = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": QuittingThreadWorker,
        "accesslog": None,
        "logger_class": NoAccessLines,
        "keepalive": 5,
        # gunicorn's own 4 KB cap on the request line answers a long query string with an
        # HTML 414 the API documents nowhere; 0 lets the API judge the query (gunicorn then
        # still stops at 1 MB) and answer in JSON like every other refusal.
        "limit_request_line": 0,
        "graceful_timeout": 10,
        "logconfig_dict": logging_config(service),
    }
    FactoryServer(factory, {**settings, **options}).run()

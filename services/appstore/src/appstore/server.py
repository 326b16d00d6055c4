"""``appstore serve``: the API under gunicorn, one application per worker process."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


def _child_exit(_server, worker) -> None:
    # Drop a dead worker's live gauges from the shared metrics directory.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class AppstoreServer(BaseApplication):
    """Runs ``create_app`` in each worker; nothing is built in the master but the key file."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        self.cfg.set("child_exit", _child_exit)

    def load(self):
        from appstore.app import create_app

        return create_app()


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the API until interrupted; metrics are collected across all workers."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="appstore-metrics-")
    AppstoreServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "accesslog": None,
            "keepalive": 5,
            "graceful_timeout": 10,
        }
    ).run()

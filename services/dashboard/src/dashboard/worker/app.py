"""Dramatiq's entry module for the Dashboard worker: ``dramatiq dashboard.worker.app``.

Dramatiq needs a module-level broker; this builds it from the environment and connects
to nothing (see :func:`dashboard.worker.bootstrap.build_broker`).
"""

from dashboard.config import Settings
from dashboard.worker.bootstrap import build_broker

broker = build_broker(Settings.from_env())

"""The worker process's heap, set aside from the garbage collector before any message.

CPython's cyclic garbage collector now and then traverses every object it tracks. In a
worker process those are mostly what importing Dramatiq, SQLAlchemy, marshmallow and the
models left behind, which live as long as the process, while the objects that come and go
are each message's and each batch's. With the two thousand messages a consumer holds in
flight outliving the young generations, full collections came every few hundred
milliseconds and traversed that whole heap each time: a fifth of the worker's CPU.

:class:`SettledHeap` collects once as the worker boots, before any message, and freezes
what is left (:func:`gc.freeze`): the collector ignores it from then on and traverses only
the objects made since. Frozen objects are still freed when nothing refers to them; only a
reference cycle among them would stay, and the process's long-lived objects are not
garbage anyway.
"""

from __future__ import annotations

import gc

from dramatiq import Middleware


class SettledHeap(Middleware):
    """Freezes the worker process's heap as the worker boots (see the module)."""

    def before_worker_boot(self, broker, worker) -> None:
        gc.collect()
        gc.freeze()

"""Dramatiq's middleware signals, sent only to the middleware that handle them.

Dramatiq's broker sends each signal (``before_process_message``, ``after_ack``, ...) by
looking the hook up on every middleware and calling it, though most middleware inherit
:class:`dramatiq.Middleware`'s empty hook for most signals. A message of the folding actor
raises four signals, so with the worker's middleware that is some twenty calls per message,
nearly all of them to empty hooks. :class:`DirectSignals` works out once per signal which
middleware override its hook and calls only those, in Dramatiq's order and with its error
handling.
"""

from __future__ import annotations

from typing import Any

from dramatiq.middleware import Middleware, MiddlewareError


class DirectSignals:
    """Mixed into a Dramatiq broker: signals go only to the middleware that handle them."""

    _hooks: dict[str, tuple[Any, ...]]

    def add_middleware(self, *args, **kwargs) -> None:
        super().add_middleware(*args, **kwargs)  # type: ignore[misc]
        self._hooks = {}  # the middleware changed: work the hooks out again

    def emit_before(self, signal: str, *args: Any, **kwargs: Any) -> None:
        signal = "before_" + signal
        for middleware, hook in self._hooks_for(signal):
            try:
                hook(self, *args, **kwargs)
            except MiddlewareError:
                raise
            except Exception:
                self.logger.critical(  # type: ignore[attr-defined]
                    "Unexpected failure in %s of %r.", signal, middleware, exc_info=True
                )

    def emit_after(self, signal: str, *args: Any, **kwargs: Any) -> None:
        signal = "after_" + signal
        for middleware, hook in self._hooks_for(signal):
            try:
                hook(self, *args, **kwargs)
            except Exception:
                self.logger.critical(  # type: ignore[attr-defined]
                    "Unexpected failure in %s of %r.", signal, middleware, exc_info=True
                )

    def _hooks_for(self, signal: str) -> tuple[Any, ...]:
        hooks = self.__dict__.get("_hooks", {}).get(signal)
        if hooks is None:
            middleware = self.middleware  # type: ignore[attr-defined]
            # Dramatiq calls "after" hooks in the reverse order of the "before" ones.
            ordered = reversed(middleware) if signal.startswith("after_") else middleware
            hooks = tuple((m, getattr(m, signal)) for m in ordered if _handles(m, signal))
            self.__dict__.setdefault("_hooks", {})[signal] = hooks
        return hooks


def _handles(middleware: Middleware, signal: str) -> bool:
    """False if ``middleware``'s hook for ``signal`` is Dramatiq's empty one."""
    inherited = getattr(Middleware, signal, None)
    if inherited is None or signal in getattr(middleware, "__dict__", {}):
        return True
    return getattr(type(middleware), signal, None) is not inherited

"""A whole run's time limit: a watchdog that kills the kernel when it is reached.

papermill's own ``execution_timeout`` is per cell. A run's limit counts from
its first cell's start, once the kernel is up (so a slow kernel start on a
loaded machine does not eat it; papermill's start-up timeout covers that), to
its last cell's end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Deadline"]


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._lock = threading.Lock()
        self._kill: Callable[[], None] | None = None
        self._timer: threading.Timer | None = None
        self._disarmed = False

    def bind(self, kill: Callable[[], None]) -> None:
        """What to do when the time is up (kill the kernel): known once the kernel started."""
        with self._lock:
            self._kill = kill

    def start(self, **_: object) -> None:
        """Start counting (idempotent: the first call counts); a papermill cell hook."""
        with self._lock:
            if self._disarmed or self._timer is not None:
                return
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            if self._disarmed or self._kill is None:
                return
            self.fired = True
            kill = self._kill
        kill()

    def disarm(self) -> None:
        with self._lock:
            self._disarmed = True
            timer = self._timer
        if timer is not None:
            timer.cancel()

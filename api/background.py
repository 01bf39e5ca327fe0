"""One helper for the service's background threads (the outbox, the overdue sweep)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("fazhi.background")


class BackgroundLoop:
    """Calls ``step`` in a daemon thread until stopped; it never dies of one failure.

    ``step`` returns True when it did work, and is then called again at once; otherwise the
    loop waits ``interval_s`` seconds, or until ``wake()``.
    """

    def __init__(self, name: str, step: Callable[[], bool], interval_s: float) -> None:
        self.name, self.step, self.interval_s = name, step, interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.step()
            except Exception:  # the loop must outlive any one failure
                log.exception("%s: round failed", self.name)
                busy = False
            if not busy:
                self._wake.wait(self.interval_s)
                self._wake.clear()

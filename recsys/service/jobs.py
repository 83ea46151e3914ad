"""One named background job at a time per kind (ranker retrain, ...): its own thread, a status to show."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class BackgroundJob:
    name: str
    status: str = "queued"  # queued, running, done, failed
    message: str = ""
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

    def start(self, work: Callable[[BackgroundJob], str]) -> BackgroundJob:
        """Run ``work(job)`` on a daemon thread; its return value becomes the message of a done job."""

        def run() -> None:
            self.status = "running"
            try:
                self.message = work(self)
                self.status = "done"
            except Exception as exc:  # shown to the user; what served before keeps serving
                log.exception("%s failed", self.name)
                self.status, self.message = "failed", f"{type(exc).__name__}: {exc}"

        self._thread = threading.Thread(target=run, name=f"taillift-{self.name}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """True when the job has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

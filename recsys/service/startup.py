"""What the first start is doing, for the page that is up while it runs: phase, n of N, ETA, and what works."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

KEYWORDS = "search works by keywords; photo and meaning search start once the models are trained"
log = logging.getLogger(__name__)
PHASES = {  # what a shopper can already do while the phase runs
    "starting": "the catalog opens in a moment",
    "seeding the demo catalog": "browsing shows the items imported so far",
    "loading the models": "browsing works; search starts in a moment",
    "image features": KEYWORDS,
    "text features": KEYWORDS,
    "training heads": KEYWORDS,
    "encoding items": "search works: the items encoded so far by meaning and photo, the rest by keywords",
    "ready": "everything works",
    "failed": "browsing works; search is unavailable (see the log)",
}


@dataclass
class StartupStatus:
    phase: str = "starting"
    done: int = 0
    total: int = 0
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    phase_started: float = field(default_factory=time.monotonic)
    history: list[tuple[str, float]] = field(default_factory=lambda: [("starting", 0.0)])  # (phase, s from start)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _logged_tenth: int = field(default=-1, repr=False)

    @property
    def ready(self) -> bool:
        return self.phase == "ready"

    def progress(self, done: int, total: int, phase: str) -> None:
        """A ``Progress`` callback: the long steps of the start report through it."""
        with self._lock:
            if phase != self.phase:
                self.phase, self.phase_started = phase, time.monotonic()
                self.history.append((phase, round(self.phase_started - self.started, 1)))
                self._logged_tenth = -1
                log.info("start-up: %s", phase)
            tenth = 10 * done // total if total else -1
            if tenth > self._logged_tenth:  # the log says how far each long step is, a line per tenth
                self._logged_tenth = tenth
                log.info("start-up: %s %d of %d", phase, done, total)
            self.done, self.total = done, total

    def finish(self, error: str | None = None) -> None:
        self.progress(0, 0, "failed" if error else "ready")
        self.error = error

    def as_dict(self) -> dict:
        """For the ``/status`` endpoint and the first-start benchmark: where the start is and when each phase began."""
        with self._lock:
            return {
                "phase": self.phase,
                "done": self.done,
                "total": self.total,
                "ready": self.phase == "ready",
                "error": self.error,
                "seconds": round(time.monotonic() - self.started, 1),
                "phases": [{"phase": p, "at_s": t} for p, t in self.history],
            }

    def line(self) -> str:
        """One line for the banner, e.g. "Starting up (2 min so far): encoding items 1,200 of 4,999, about 3 min left
        · browsing works; search starts when the index is built"."""
        with self._lock:
            phase, done, total = self.phase, self.done, self.total
            phase_s = time.monotonic() - self.phase_started
        so_far = _duration(time.monotonic() - self.started)
        step = phase
        if total:
            step += f" {done:,} of {total:,}"
            if 0 < done < total:
                step += f", about {_duration(phase_s * (total - done) / done)} left"
        return f"Starting up ({so_far} so far): {step} · {PHASES.get(phase, 'browsing works')}"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"

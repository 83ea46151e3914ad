"""The one progress-callback type of long work (imports, encoding, training, evaluation)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]
"""``progress(done, total, stage)``: ``done`` of ``total`` units of ``stage`` (e.g. "encoding items") are finished."""

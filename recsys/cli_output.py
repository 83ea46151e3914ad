"""What every command of ``python -m recsys`` shares: the output contract, progress on stderr, deferred flags.

* ``--json``: the result as JSON on stdout, and nothing else there: while a ``--json`` command runs, whatever else
  would reach stdout (prints, libraries, C code) goes to stderr (``json_stdout``). ``-o/--output FILE`` also writes
  the same JSON to FILE (with or without ``--json``). ``add_output_arguments`` adds both, ``emit`` honours them.
* ``ProgressReporter``: a ``recsys.progress.Progress`` callback drawing tqdm bars on stderr (plain stage lines when
  stderr is not a terminal), with an optional heartbeat for work that reports nothing for minutes.
* ``CommandParser.defer``: a command whose flags come from a heavy module (``train encoder``: torch) registers its
  name and help at once and builds its flags only when it is parsed, so other commands start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

_json_stream: TextIO | None = None  # the real stdout while ``json_stdout`` diverts everything else to stderr


# --- parsers ------------------------------------------------------------------------------------------------


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that can add arguments on first use (``defer``); sub-parsers inherit the class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: list[Callable[[argparse.ArgumentParser], None]] = []

    def defer(self, build: Callable[[argparse.ArgumentParser], None]) -> None:
        self._deferred.append(build)

    def build_deferred(self) -> None:
        while self._deferred:
            self._deferred.pop(0)(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        self.build_deferred()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.build_deferred()
        return super().format_help()

    def format_usage(self) -> str:
        self.build_deferred()
        return super().format_usage()


def deferred(parser: argparse.ArgumentParser, build: Callable[[argparse.ArgumentParser], None]) -> None:
    """``build(parser)`` when the parser is used (a ``CommandParser``), else at once (a plain ``ArgumentParser``)."""
    if isinstance(parser, CommandParser):
        parser.defer(build)
    else:
        build(parser)


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, str]]:
    """Every runnable command under ``parser`` ("train encoder", ...) with its one-line help, in parser order."""
    found: list[tuple[str, str]] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for choice in action._choices_actions:  # the (name, help) pairs argparse lists in --help
            name = choice.dest
            sub = action.choices[name]
            nested = commands(sub, f"{prefix}{name} ")
            found += nested or [(f"{prefix}{name}", choice.help or "")]
    return found


def add_output_arguments(parser: argparse.ArgumentParser, what: str = "the result") -> None:
    parser.add_argument(
        "--json", action="store_true", help=f"print {what} as JSON on stdout (progress and logs go to stderr)"
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help=f"also write {what} as JSON to FILE")


# --- output -------------------------------------------------------------------------------------------------


def to_json(payload: Any, indent: int | None = 2) -> str:
    """Strict JSON (NaN and infinities become null; paths, dates, numpy scalars and dataclasses are converted)."""
    return json.dumps(_plain(payload), indent=indent, allow_nan=False, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_plain(v) for v in items]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return _plain(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy array
        return _plain(value.tolist())
    return str(value)


def stdout() -> TextIO:
    """Where a command's JSON goes: the real stdout (also inside ``json_stdout``)."""
    return _json_stream or sys.stdout


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """The command's result: ``payload`` as JSON with ``--json``, else ``text``; and the JSON to ``--output``."""
    data = to_json(payload)
    if getattr(args, "json", False):
        print(data, file=stdout(), flush=True)
    elif text:
        print(text, flush=True)
    if getattr(args, "output", None):
        write_file(args.output, data + "\n")


def write_file(path: Path | str, text: str) -> None:
    """Write ``text`` atomically (a half-written file never replaces a good one)."""
    path = Path(path)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def say(args: argparse.Namespace, message: str) -> None:
    """A line of the readable output (stdout), moved to stderr under ``--json`` so stdout stays JSON."""
    print(message, file=sys.stderr if getattr(args, "json", False) else sys.stdout, flush=True)


def note(message: str) -> None:
    """A log line for the person at the terminal: always stderr, never mixed into results."""
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def json_stdout(enabled: bool = True) -> Iterator[None]:
    """While it is open (and ``enabled``), everything written to stdout goes to stderr, at the file-descriptor level
    when stdout has one (C libraries included); ``emit`` and ``stdout()`` still reach the real stdout."""
    global _json_stream
    if not enabled or _json_stream is not None:
        yield
        return
    sys.stdout.flush()
    try:
        out_fd, err_fd = sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced sys.stdout (pytest's capsys): Python level only
        _json_stream = sys.stdout
        try:
            with contextlib.redirect_stdout(sys.stderr):
                yield
        finally:
            _json_stream = None
        return
    saved = os.dup(out_fd)
    _json_stream = os.fdopen(os.dup(saved), "w", encoding="utf-8")
    os.dup2(err_fd, out_fd)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, out_fd)
        os.close(saved)
        _json_stream.close()
        _json_stream = None


# --- progress -----------------------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressReporter:
    """A ``Progress`` callback (``reporter(done, total, stage)``) on stderr.

    On a terminal: one tqdm bar per stage. Elsewhere (logs, CI): a line when a stage starts, at each tenth of its
    total, and every ``every_s`` seconds while it reports. ``heartbeat_s`` also ticks while nothing reports (a bar's
    clock, or a "still working" line), for work without progress callbacks. A context manager (or ``close()`` it).
    """

    def __init__(
        self,
        name: str,
        unit: str = "",
        *,
        stream: TextIO | None = None,
        bar: bool | None = None,
        every_s: float = 30.0,
        heartbeat_s: float | None = None,
    ) -> None:
        self.name, self.unit, self.every_s = name, unit, every_s
        self.stream = stream or sys.stderr
        self.bar = _isatty(self.stream) if bar is None else bar
        self.stage: str | None = None
        self.started = time.monotonic()
        self._tenth = 0  # tenths of the stage's total already reported
        self._last_line = 0.0
        self._tqdm: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if heartbeat_s:
            self._ticker = threading.Thread(target=self._tick, args=(heartbeat_s,), name="cli-progress", daemon=True)
            self._ticker.start()

    def __call__(self, done: int, total: int, stage: str, detail: str = "") -> None:
        with self._lock:
            if stage != self.stage:
                self._begin(stage, total)
            if self.bar:
                self._tqdm.total = total or None
                self._tqdm.n = done
                if detail:
                    self._tqdm.set_postfix_str(detail, refresh=False)
                self._tqdm.refresh()
                return
            tenth = done * 10 // total if total else 0
            if tenth > self._tenth or time.monotonic() - self._last_line >= self.every_s:
                self._tenth = tenth
                self._line((f"{done}/{total}" if total else f"{done}") + (f" {self.unit}" if self.unit else ""), detail)

    def _begin(self, stage: str, total: int) -> None:
        self._end_bar()
        self.stage, self._tenth = stage, 0
        if self.bar:
            from tqdm import tqdm

            self._tqdm = tqdm(
                total=total or None,
                desc=f"{self.name}: {stage}",
                unit=self.unit or "it",
                file=self.stream,
                dynamic_ncols=True,
            )
        else:
            self._line("started")

    def _line(self, what: str, detail: str = "") -> None:
        self._last_line = time.monotonic()
        stage = f" {self.stage}" if self.stage else ""
        extra = f" ({detail})" if detail else ""
        print(
            f"{self.name}:{stage} {what}{extra} [{clock(self._last_line - self.started)}]", file=self.stream, flush=True
        )

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(1.0 if self.bar else interval):
            with self._lock:
                if self.bar:
                    if self._tqdm is None:
                        from tqdm import tqdm

                        self._tqdm = tqdm(total=None, desc=self.name, file=self.stream, bar_format="{desc} {elapsed}")
                    self._tqdm.refresh()
                elif time.monotonic() - self._last_line >= interval:
                    self._line("still working")

    def _end_bar(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None

    def close(self, summary: str | None = None) -> None:
        """Stop the bars and the heartbeat; ``summary`` is printed as the last line (on stderr)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._end_bar()
        if summary:
            print(summary, file=self.stream, flush=True)

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

"""Options as data: a dataclass field carries its own help text, form label, bounds and choices, so one definition
drives the config, the command-line flags and the form.

    @dataclass(frozen=True)
    class RunOptions:
        epochs: int = option(8, help="passes over the training pairs", label="Epochs", minimum=1, group="main")

        def __post_init__(self) -> None:
            if problems := bound_problems(self):
                raise ValueError("; ".join(problems))

* ``add_arguments(parser, cls)`` adds one flag per field (``--epochs``; bools as ``--flag/--no-flag``; a tuple of
  choices as a repeatable flag); ``from_arguments(cls, namespace)`` builds the dataclass back from them.
* ``from_values(cls, values)`` builds it from loosely typed values by field name (a form's numbers arrive as floats).
* ``subset(cls, obj, **renames)`` builds another dataclass (a trainer's config) from ``obj``'s same-named fields.
* ``specs(cls)`` lists the fields with their resolved types and metadata (what a form iterates over).

Validation stays in the dataclass's ``__post_init__`` (ValueError with the reasons); ``bound_problems`` gives it the
minimum/maximum checks the metadata declares. Nothing here imports a ``recsys`` module or a heavy library.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

METADATA_KEY = "option"


@dataclass(frozen=True)
class Option:
    """What a field says about itself beyond its type and default."""

    help: str = ""  # the CLI's help text (and the form's info line when ``info`` is not given)
    label: str = ""  # the form's label; empty: the field name in words
    minimum: float | None = None  # inclusive; checked by ``bound_problems``, the form's minimum
    maximum: float | None = None  # inclusive
    choices: tuple[str, ...] = ()  # str fields: one of them; tuple fields: any of them
    flag: str = ""  # CLI flag when it differs from ``--field-name``
    off_flag: str = ""  # bool fields: an extra flag that turns it off (kept for a documented spelling)
    metavar: str | None = None
    group: str | None = None  # the form's section; None: not in the form (CLI only)
    info: str = ""  # the form's info line
    slider: tuple[float, float, float] | None = None  # the form shows a slider over (low, high, step)


def option(
    default: Any,
    *,
    help: str = "",
    label: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    choices: Sequence[str] = (),
    flag: str = "",
    off_flag: str = "",
    metavar: str | None = None,
    group: str | None = None,
    info: str = "",
    slider: tuple[float, float, float] | None = None,
) -> Any:
    """A dataclass field with its metadata (``default`` must be immutable: the options are frozen data)."""
    meta = Option(
        help=help,
        label=label,
        minimum=minimum,
        maximum=maximum,
        choices=tuple(choices),
        flag=flag,
        off_flag=off_flag,
        metavar=metavar,
        group=group,
        info=info,
        slider=slider,
    )
    return dataclasses.field(default=default, metadata={METADATA_KEY: meta})


@dataclass(frozen=True)
class Spec:
    """One field: its name, default, resolved type (``kind``: bool, int, float, str or tuple), metadata."""

    name: str
    default: Any
    kind: type
    optional: bool  # the type admits None
    option: Option

    @property
    def flag(self) -> str:
        return self.option.flag or "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        return self.option.label or self.name.replace("_", " ").capitalize()


def specs(cls: type) -> list[Spec]:
    """The fields of dataclass ``cls`` in order (fields without ``option`` metadata get an empty one)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        kind, optional = _kind(hints[f.name], f.name)
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        )
        out.append(Spec(f.name, default, kind, optional, f.metadata.get(METADATA_KEY, Option())))
    return out


def _kind(hint: Any, name: str) -> tuple[type, bool]:
    args = typing.get_args(hint)
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        optional = len(rest) < len(args)
        if len(rest) != 1:
            raise TypeError(f"option {name}: unions other than X | None are not supported")
        hint, args = rest[0], typing.get_args(rest[0])
    origin = typing.get_origin(hint) or hint
    if origin is tuple:
        return tuple, optional
    if origin in (bool, int, float, str):
        return origin, optional
    raise TypeError(f"option {name}: type {hint!r} is not supported (bool, int, float, str, tuple[str, ...])")


# --- command line -------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per field of ``cls``. Absent flags leave the field at its dataclass default."""
    for spec in specs(cls):
        meta = spec.option
        default = ", ".join(spec.default) if spec.kind is tuple else spec.default
        help_text = f"{meta.help} (default: {default})" if meta.help else f"default: {default}"
        common: dict[str, Any] = {"dest": spec.name, "default": argparse.SUPPRESS}
        if spec.kind is bool:
            parser.add_argument(spec.flag, action=argparse.BooleanOptionalAction, help=help_text, **common)
            if meta.off_flag:
                parser.add_argument(meta.off_flag, action="store_false", help=f"same as --no-{spec.flag[2:]}", **common)
            continue
        if meta.metavar:
            common["metavar"] = meta.metavar
        if spec.kind is tuple:
            parser.add_argument(
                spec.flag, action="append", choices=meta.choices or None, help=f"{help_text}; repeatable", **common
            )
        else:
            parser.add_argument(spec.flag, type=spec.kind, choices=meta.choices or None, help=help_text, **common)


def from_arguments(cls: type, namespace: argparse.Namespace) -> Any:
    """``cls`` from parsed ``add_arguments`` flags (ValueError with the reasons when ``__post_init__`` refuses)."""
    given = {s.name: getattr(namespace, s.name) for s in specs(cls) if hasattr(namespace, s.name)}
    return from_values(cls, given)


# --- values by name (forms, JSON) ---------------------------------------------------------------------------


def from_values(cls: type, values: Mapping[str, Any]) -> Any:
    """``cls`` from ``values`` by field name, each coerced to its field's type; missing names keep the default.

    A form's numbers arrive as floats and its check-box groups as lists: ``epochs=8.0`` becomes 8 and
    ``sources=["catalog"]`` becomes ``("catalog",)``. ValueError names the field when a value does not fit.
    """
    by_name = {s.name: s for s in specs(cls)}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise ValueError(f"unknown option(s): {', '.join(unknown)}")
    return cls(**{name: coerce(by_name[name], value) for name, value in values.items()})


def coerce(spec: Spec, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip() and spec.kind is not str):
        if spec.optional:
            return None
        raise ValueError(f"{spec.name} needs a value")
    if spec.kind is tuple:
        items = [value] if isinstance(value, str) else list(value)
        return tuple(dict.fromkeys(str(v) for v in items))  # in order, once each
    if spec.kind is bool:
        if isinstance(value, str):
            if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{spec.name} must be true or false, not {value!r}")
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)
    try:
        number = float(value) if spec.kind is int else None
    except (TypeError, ValueError):
        raise ValueError(f"{spec.name} must be a whole number, not {value!r}") from None
    if number is not None:
        if not number.is_integer():
            raise ValueError(f"{spec.name} must be a whole number, not {value!r}")
        return int(number)
    try:
        return spec.kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{spec.name} must be a {spec.kind.__name__}, not {value!r}") from None


def bound_problems(obj: Any) -> list[str]:
    """The minimum/maximum that ``obj``'s field metadata declares and its values break, one reason each."""
    problems = []
    for spec in specs(type(obj)):
        value, low, high = getattr(obj, spec.name), spec.option.minimum, spec.option.maximum
        if value is None or spec.kind not in (int, float) or (low is None and high is None):
            continue
        if low is not None and high is not None and not low <= value <= high:
            problems.append(f"{spec.name} must be {_number(low)}-{_number(high)} (got {value})")
        elif low is not None and value < low:
            problems.append(f"{spec.name} must be at least {_number(low)} (got {value})")
        elif high is not None and value > high:
            problems.append(f"{spec.name} must be at most {_number(high)} (got {value})")
    return problems


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def subset(cls: type, obj: Any, **renames: str) -> Any:
    """``cls`` built from ``obj``'s fields that ``cls`` also has; ``renames`` maps a field of ``cls`` to the name of
    the ``obj`` field that feeds it (``head_lr="lr"``). Fields of ``cls`` that ``obj`` lacks keep their defaults."""
    source = {f.name for f in dataclasses.fields(obj)}
    wanted = {f.name for f in dataclasses.fields(cls) if f.init}
    missing = [f"{target}<-{name}" for target, name in renames.items() if target not in wanted or name not in source]
    if missing:
        raise TypeError(f"subset({cls.__name__}): no such field(s) {', '.join(missing)}")
    pairs = {name: name for name in wanted & source} | renames
    return cls(**{target: getattr(obj, name) for target, name in pairs.items()})

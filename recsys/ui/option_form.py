"""Form controls generated from an options dataclass (``recsys.options``): one Gradio component per field.

``components(cls, group)`` adds the controls of the fields whose metadata names ``group`` to the open Blocks
context, in field order, and returns them by field name; ``values(names, *args)`` turns the values Gradio passes
back into a dict by field name, for ``recsys.options.from_values``.

The field's kind picks the control: bool -> Checkbox, str with choices -> Radio, tuple with choices ->
CheckboxGroup, int/float -> Number (whole numbers for int; the metadata's minimum/maximum), or Slider when the
metadata gives a ``slider`` range.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from recsys.options import Spec, specs
from recsys.ui.i18n import t


def component(spec: Spec, default: Any, *, elem_id: str | None = None, interactive: bool | None = None) -> Any:
    """The Gradio control of one field, showing ``default``."""
    meta = spec.option
    common: dict[str, Any] = {"label": t(spec.label), "elem_id": elem_id, "interactive": interactive}
    if meta.info:
        common["info"] = t(meta.info)
    if spec.kind is bool:
        return gr.Checkbox(bool(default), **common)
    if spec.kind is tuple:
        return gr.CheckboxGroup(list(meta.choices), value=list(default), **common)
    if meta.choices:
        return gr.Radio(list(meta.choices), value=default, **common)
    if meta.slider is not None:
        low, high, step = meta.slider
        return gr.Slider(low, high, value=default, step=step, **common)
    if spec.kind in (int, float):
        return gr.Number(
            default, precision=0 if spec.kind is int else None, minimum=meta.minimum, maximum=meta.maximum, **common
        )
    return gr.Textbox(default or "", **common)


def components(
    cls: type,
    group: str,
    *,
    defaults: Any = None,
    elem_prefix: str = "",
    elem_ids: dict[str, str] | None = None,
    interactive: bool | None = None,
) -> dict[str, Any]:
    """The controls of ``cls``'s fields in ``group``, by field name. ``defaults``: an instance whose values they show
    (default: ``cls()``); element ids are ``elem_ids[name]`` or ``<elem_prefix>-<field-name>``."""
    defaults = defaults if defaults is not None else cls()
    elem_ids = elem_ids or {}
    made = {}
    for spec in specs(cls):
        if spec.option.group != group:
            continue
        elem_id = elem_ids.get(spec.name) or (f"{elem_prefix}-{spec.name.replace('_', '-')}" if elem_prefix else None)
        made[spec.name] = component(spec, getattr(defaults, spec.name), elem_id=elem_id, interactive=interactive)
    return made


def groups(cls: type) -> list[str]:
    """The form groups ``cls``'s fields name, in field order (fields without a group are not in the form)."""
    return list(dict.fromkeys(s.option.group for s in specs(cls) if s.option.group is not None))


def values(names: list[str], *args: Any) -> dict[str, Any]:
    """The first ``len(names)`` of Gradio's input values, by field name."""
    return dict(zip(names, args[: len(names)]))

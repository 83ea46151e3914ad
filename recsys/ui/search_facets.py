"""Facet checkboxes of the Search tab: the top values of each facet, the rest behind a "More" button.

A catalog has dozens of article types; all of them as checkboxes made the page ~3,000 px tall. Each facet shows its
``FACET_SHOWN`` most frequent values among the candidates (and every ticked value, so a filter never hides itself);
"More (n)" shows the rest in a box that scrolls (``FACET_CSS``), "Fewer" folds them again. A new search folds all.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from recsys.search.filters import Facets
from recsys.ui.i18n import t

FACET_LABELS = {"category": t("Article type"), "gender": t("Gender"), "colour": t("Colour")}
FACET_SHOWN = 8

# Injected by the Search tab (a <style> element applies page-wide): an unfolded facet scrolls inside its own box.
FACET_CSS = ".search-facet .wrap { max-height: 260px; overflow-y: auto; }"

Counts = dict[str, list[tuple[str, int]]]  # facet name -> [(value, candidates with it)], most frequent first


def facet_counts_state(facets: Facets) -> Counts:
    return {name: [(str(v), int(n)) for v, n in facets.counts.get(name, [])] for name in FACET_LABELS}


def choices(counts: list[tuple[str, int]], selected: list[str], expanded: bool) -> list[tuple[str, str]]:
    """(label, value) pairs to show: the top values (all when expanded), then ticked values not among them."""
    shown = list(counts if expanded else counts[:FACET_SHOWN])
    every = dict(counts)
    values = {v for v, _ in shown}
    shown += [(v, every.get(v, 0)) for v in selected if v not in values]  # a ticked value stays visible
    return [(f"{value} ({count})", value) for value, count in shown]


def more_button(counts: list[tuple[str, int]], expanded: bool) -> dict[str, Any]:
    hidden = len(counts) - FACET_SHOWN
    return gr.update(value="Fewer" if expanded else f"More ({hidden})", visible=hidden > 0)


def facet_updates(counts: Counts, selected: dict[str, list[str]]) -> tuple[list[Any], list[Any]]:
    """(checkbox updates, more-button updates) after a search: folded, ticked values kept."""
    boxes, buttons = [], []
    for name in FACET_LABELS:
        picked = selected.get(name) or []
        # Choices only: the ticks are the shopper's, already on the page. Sending them back would tick a box again
        # when this search answers after a Clear (a box ticked, then Clear at once).
        boxes.append(gr.update(choices=choices(counts.get(name, []), picked, False)))
        buttons.append(more_button(counts.get(name, []), False))
    return boxes, buttons


def toggle(name: str, counts: Counts | None, picked: list[str] | None, expanded: dict[str, bool] | None):
    """Unfold or fold one facet: (checkbox update, button update, new expanded flags)."""
    expanded = dict(expanded or {})
    expanded[name] = not expanded.get(name, False)
    values = (counts or {}).get(name, [])
    picked = picked or []
    box = gr.update(choices=choices(values, picked, expanded[name]), value=picked)
    return box, more_button(values, expanded[name]), expanded

"""Evaluation tab: what the app's runs measured (training before/after, ranker cross-validation, encoder
validation, the recommenders replayed on the app's own log with head vs tail), every stored report as a table and
charts, and a before/after comparison of two reports.

The app writes the training comparisons (Training tab) and the rankers' CV; ``recsys eval`` adds reports of the
other suites (long runs stay out of the web process). This tab only reads them, anew each time it is opened.
Each event is a plain function of (settings, inputs) so it can be tested without a browser.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.context import Context
from matplotlib.figure import Figure

from recsys.config import Settings
from recsys.evaluation import charts, replay, run_history
from recsys.evaluation import encoder_comparison as ec
from recsys.evaluation import report as reports
from recsys.ui.i18n import t

EMPTY = "No stored report picked."
NOTHING_YET = (
    "**Nothing measured yet.** After a run on the **Training** tab, its before/after appears here: the new version "
    f"and its parent on the fashion suite's held-out items ({ec.HEADLINE}), both reports stored. The catalog "
    "ranker's cross-validation appears once the ranker is trained: in the background at a start once the catalog "
    "holds `RECSYS_AUTO_TRAIN_MIN_ITEMS` items, or with **Retrain ranker** on the Training tab."
)
REPLAY_HOW = (
    f"the app replays its log after a recommender refit once it holds {replay.MIN_EVENTS} events; or "
    "`python -m recsys eval replay --data-dir DIR`"
)
CLI_NOTE = (
    "Other suites (crowdflower, instacart, reviews, replay, the full fashion suite) run from the command line and land"
    " in the same list: `python -m recsys eval SUITE --data DIR`."
)


def refresh_choices(settings: Settings) -> list[str]:
    return reports.list_reports(settings)


def _ranker_pending(settings: Settings) -> str:
    """When a catalog ranker will be trained: the start-up trains one only from ``auto_train_min_items`` items."""
    manual = "an admin's Retrain ranker on the Training tab trains one"
    if not settings.auto_train_ranker:
        return manual
    items = f"{settings.auto_train_min_items:,}"
    return f"a start trains one in the background once the catalog holds {items} items; {manual}"


def runs_summary(settings: Settings) -> str:
    """Markdown: the training comparisons, ranker CV results, replays and encoder validations the app has stored."""
    comparisons = run_history.training_comparisons(settings)
    rankers = run_history.ranker_results(settings)
    encoders = [row for row in run_history.encoder_validations(settings) if row["recall@10"] is not None]
    replays = run_history.replay_results(settings)
    recommenders = run_history.recommender_versions(settings)
    if not (comparisons or rankers or encoders or replays):
        # A fresh start has fitted recommenders (on no events yet) but measured nothing: say so, then list them.
        if not recommenders:
            return NOTHING_YET
        return "\n".join([NOTHING_YET, "", *recommender_summary(recommenders)]).rstrip()
    out: list[str] = []
    if comparisons:
        out += [
            f"**Training before/after** (fashion suite, held-out items; headline {ec.HEADLINE})",
            "",
            "| when (UTC) | new version | parent | evaluation | after | before | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in comparisons:
            h = c["headline"]
            out.append(
                f"| {_when(c['created'])} | {c['child']} | {c['parent'] or 'untrained heads'} | {c['size']} | "
                f"{_num(h.get('after'))} | {_num(h.get('before'))} | {_verdict(h.get('verdict'))} |"
            )
        out.append("")
    else:
        out += ["**Training before/after:** none yet (a run on the Training tab stores one).", ""]
    if rankers:
        out += [
            "**Ranker cross-validation** (grouped by query; the chosen configuration of the grid)",
            "",
            "| ranker version | purpose | CV | configs | trained on |",
            "|---|---|---|---|---|",
        ]
        for r in rankers:
            cv = f"{r['metric']} {_num(r['mean'])} ± {_num(r['std'])} over {r['folds']} folds" if r["mean"] else "–"
            out.append(f"| {r['version']} | {r['purpose']} | {cv} | {r['configs']} | {_training(r['training'])} |")
        out.append("")
    else:
        out += [f"**Ranker cross-validation:** none yet ({_ranker_pending(settings)}).", ""]
    out += replay_summary(replays)
    out += recommender_summary(recommenders)
    if encoders:
        out += [
            "**Encoder versions** (recall@10 text→image on validation pairs, measured when each was trained)",
            "",
            "| version | created | parent | recall@10 | on |",
            "|---|---|---|---|---|",
        ]
        for e in encoders:
            on = f"{e['pairs']} {e['metrics_on']} pairs" if e["pairs"] else ""
            out.append(f"| {e['version']} | {e['created']} | {e['parent'] or ''} | {_num(e['recall@10'])} | {on} |")
    return "\n".join(out).rstrip()


def replay_summary(replays: list[dict]) -> list[str]:
    """Markdown lines: the newest replay of the recommenders on the app's own log, head vs tail items."""
    if not replays:
        return [f"**Recommendations on this app's log:** none yet ({REPLAY_HOW}).", ""]
    newest, d = replays[0], replays[0]["dataset"]
    k = newest["k"]
    by = f"after the refit serving {newest['model_version']}" if newest["by_app"] else "`recsys eval replay`"
    out = [
        f"**Recommendations on this app's log** (replay, {_when(newest['created'])} UTC, {by}): fitted on the "
        f"{d.get('fit_events')} events before {d.get('split_at', '')[:16]}, scored on the "
        f"{d.get('test_events')} after; {d.get('tail_rule', '')}",
        "",
        f"| target | method | shoppers | Recall@{k} | nDCG@{k} | head recall | tail recall | coverage |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in newest["rows"]:
        out.append(
            f"| {r['target']} | {r['method']} | {r['n']} | {_num(r['recall'])} | {_num(r['ndcg'])} | "
            f"{_num(r['head_recall'])} | {_num(r['tail_recall'])} | {_num(r['coverage'])} |"
        )
    if len(replays) > 1:
        out.append(f"\n{len(replays) - 1} earlier replay(s) in the stored reports below.")
    return out + [""]


def recommender_summary(versions: list[dict]) -> list[str]:
    """Markdown lines: the recommender versions the app refitted, newest first, with the replay taken while each
    served ("for you" recall, and on tail items) when there is one."""
    if not versions:
        return ["**Recommender versions:** none yet (fitted in the background from the shoppers' events).", ""]
    out = [
        "**Recommender versions** (refitted in the background as events arrive; replay: the log replayed while the "
        'version served, "for you" recall overall and on tail items)',
        "",
        "| version | created (UTC) | parent | items | events | shoppers | tail items | for you | replay |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in versions:
        m = v["metrics"]
        replayed = "; ".join(
            f"{r['target']} R@{v['k']} {_num(r['recall'])}, tail {_num(r['tail_recall'])}" for r in v["for_you"]
        )
        out.append(
            f"| {v['version']} | {v['created'][:16].replace('T', ' ')} | {v['parent'] or ''} | {m.get('items', '')} | "
            f"{m.get('events', '')} | {m.get('shoppers', '')} | {m.get('tail_items', '')} | {_for_you(m)} | "
            f"{replayed or '–'} |"
        )
    return out + [""]


def _for_you(metrics: dict) -> str:
    """How the version orders For you: the learned re-ranker with its exposure allocation's swaps, or the hand
    blend (too few shoppers with two orders, or turned off); versions saved before this was recorded say nothing."""
    if "ranker" not in metrics:
        return "–"
    if not metrics["ranker"]:
        return "hand blend"
    return f"learned, {metrics.get('allocation_swaps', 0)} exposure swaps"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _verdict(verdict: str | None) -> str:
    return {"worse": "⚠️ worse", "better": "better", "equal": "equal"}.get(verdict or "", "no parent to compare")


def _when(stamp: str) -> str:
    """``20250102T030405123456Z`` -> ``2025-01-02 03:04``."""
    if len(stamp) < 13:
        return stamp
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"


def _training(training: dict) -> str:
    parts = [str(training.get("labels", ""))]
    if training.get("queries"):
        parts.append(f"{training['queries']} queries")
    return ", ".join(p for p in parts if p)


def show_report(settings: Settings, name: str | None) -> tuple[str, Figure | None, Figure | None, list[str]]:
    """(table text, head/tail figure, coverage/Gini figure, metric names) of one stored report."""
    if not name:
        return EMPTY, None, None, []
    report = reports.read(settings, name)
    return (
        reports.format_table(report),
        charts.head_tail_figure(report),
        charts.coverage_gini_figure(report),
        reports.metric_names(report),
    )


def compare(settings: Settings, before: str | None, after: str | None, metric: str | None) -> tuple[str, Figure | None]:
    """(caveats, figure) comparing one metric of every method in two stored reports."""
    if not before or not after:
        return "Pick two reports to compare.", None
    a, b = reports.read(settings, before), reports.read(settings, after)
    metric = metric or next(iter(reports.metric_names(a)), None)
    if metric is None:
        return "The first report has no metrics.", None
    labels = (a.get("model_version") or before, b.get("model_version") or after)
    return charts.comparison_notes(a, b), charts.compare_figure(a, b, metric, labels)


def default_pair(settings: Settings, names: list[str]) -> tuple[str | None, str | None]:
    """(before, after) shown first: the latest training comparison, else the two newest reports."""
    for c in run_history.training_comparisons(settings):
        if c["before_report"] in names:
            return c["before_report"], c["after_report"]
    return (names[1] if len(names) > 1 else names[0] if names else None), (names[0] if names else None)


def current(settings: Settings) -> dict[str, Any]:
    """Everything the tab shows, read now (names, the report shown first, its table and charts, the before/after
    pair, its metric and comparison)."""
    names = refresh_choices(settings)
    first = names[0] if names else None
    text, fig_segments, fig_coverage, metrics = show_report(settings, first)
    before, after = default_pair(settings, names)
    if before is not None:  # the before/after's metrics are those of its reports, not of the report shown above
        metrics = reports.metric_names(reports.read(settings, before))
    metric = ec.HEADLINE_METRIC if ec.HEADLINE_METRIC in metrics else (metrics[0] if metrics else None)
    notes, comparison = compare(settings, before, after, metric) if before and after else ("", None)
    return {
        "summary": runs_summary(settings),
        "names": names,
        "report": first,
        "table": text,
        "head_tail": fig_segments,
        "coverage": fig_coverage,
        "before": before,
        "after": after,
        "metrics": metrics,
        "metric": metric,
        "notes": notes,
        "comparison": comparison,
    }


def view(settings: Settings) -> tuple[Any, ...]:
    """What a page load and Refresh put on the page, in ``build``'s output order: summary, report, table,
    head/tail, coverage, before, after, metric, notes, comparison."""
    now = current(settings)
    names = now["names"]
    return (
        now["summary"],
        gr.update(choices=names, value=now["report"]),
        now["table"],
        now["head_tail"],
        now["coverage"],
        gr.update(choices=names, value=now["before"]),
        gr.update(choices=names, value=now["after"]),
        gr.update(choices=now["metrics"], value=now["metric"]),
        now["notes"],
        now["comparison"],
    )


def _enclosing_tab() -> gr.Tab | None:
    block = Context.block
    return block if isinstance(block, gr.Tab) else None


def build_evaluation_tab(settings: Settings, tab: gr.Tab | None = None) -> dict[str, Any]:
    """Add the tab's components to the open Blocks/Tab context; returns them by name (for tests/wiring). Opening
    ``tab`` (default: the Tab being built) reads the reports anew, so runs that ended after the page was loaded
    show up too."""
    tab = tab if tab is not None else _enclosing_tab()
    now = current(settings)  # the values at build time; a page load reads them anew
    names = now["names"]
    gr.Markdown(t("### What this app has measured"))
    summary = gr.Markdown(now["summary"], elem_id="eval-runs")
    gr.Markdown(t(CLI_NOTE), elem_id="eval-cli-note")
    gr.Markdown(t("### Stored reports\nNumbers are means over held-out queries/users (± standard error)."))
    with gr.Row():
        picked = gr.Dropdown(names, value=now["report"], label=t("Report"), scale=4, elem_id="eval-report")
        refresh = gr.Button(t("Refresh"), scale=1, elem_id="eval-refresh")
    table = gr.Code(now["table"], label=t("Table"), language=None, interactive=False, elem_id="eval-table")
    with gr.Row():
        head_tail = gr.Plot(now["head_tail"], label=t("By segment (head vs tail)"))
        coverage = gr.Plot(now["coverage"], label=t("Coverage and Gini"))
    gr.Markdown(t("### Before / after"))
    with gr.Row():
        before = gr.Dropdown(names, value=now["before"], label=t("Before"), elem_id="eval-before")
        after = gr.Dropdown(names, value=now["after"], label=t("After"), elem_id="eval-after")
        metric = gr.Dropdown(now["metrics"], value=now["metric"], label=t("Metric"), elem_id="eval-metric")
    notes = gr.Markdown(now["notes"])
    comparison = gr.Plot(now["comparison"], label=t("Comparison"))
    shown = [summary, picked, table, head_tail, coverage, before, after, metric, notes, comparison]

    def on_pick(name: str | None):
        text, fig_segments, fig_coverage, metrics = show_report(settings, name)
        return text, fig_segments, fig_coverage, gr.update(choices=metrics, value=metrics[0] if metrics else None)

    private: dict[str, Any] = {"api_visibility": "private"}
    picked.input(on_pick, picked, [table, head_tail, coverage, metric], **private)
    refresh.click(lambda: view(settings), None, shown, **private)
    if tab is not None:
        tab.select(lambda: view(settings), None, shown, **private)
    for trigger in (before, after, metric):
        trigger.input(
            lambda b, a, m: compare(settings, b, a, m), [before, after, metric], [notes, comparison], **private
        )
    return {
        "summary": summary,
        "report": picked,
        "table": table,
        "head_tail": head_tail,
        "coverage": coverage,
        "before": before,
        "after": after,
        "metric": metric,
        "notes": notes,
        "comparison": comparison,
    }

"""The quick fashion evaluation of saved versions (no ridge baseline: only the evaluated items are read and
encoded), its progress, and the before/after comparison that the Training tab runs and stores."""

from __future__ import annotations

import pytest

from recsys.config import Settings
from recsys.evaluation import encoder_comparison, fashion, fashion_data
from recsys.evaluation import report as reports
from recsys.evaluation.fashion_scoring import ABLATIONS
from recsys.splits import is_holdout
from tests.evaluation.test_fashion_suite import TINY, _catalog, _numbers


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """(settings, data dir, child, parent): two versions trained on the fit items with different seeds."""
    root = tmp_path_factory.mktemp("fashion-quick")
    settings = Settings.from_env({"data_dir": root / "state", "demo_limit": 0}, environ={})
    data = _catalog(root / "data")
    parent = fashion.run(data, None, settings, 0, head_config=TINY)["model"]["version"]
    child = fashion.run(data, None, settings, 1, head_config=TINY)["model"]["version"]
    return settings, data, child, parent


def test_quick_run_reads_only_the_evaluated_images_and_keeps_the_taillift_numbers(versions, monkeypatch):
    settings, data, child, _ = versions
    full = fashion.run(data, settings=settings, model=child)
    evaluated = {r for r in fashion_data.read_rows(fashion_data.suite_dir(data))["id"] if is_holdout(r)}
    read: list[str] = []
    real_read = fashion_data.read_images
    monkeypatch.setattr(fashion_data, "read_images", lambda d, ids: real_read(d, read.extend(ids) or list(ids)))
    seen: list[tuple[int, int, str]] = []
    quick = fashion.run(data, settings=settings, model=child, ridge=False, progress=lambda *a: seen.append(a))

    assert set(read) == evaluated and len(read) == quick["dataset"]["evaluated_items"] == 10
    assert set(quick["missing_methods"]) == {"title->image/ridge_map", "category->image/ridge_map"}
    kept = {k: v for k, v in _numbers(full).items() if not k.endswith("ridge_map") and k.split("/")[1] not in ABLATIONS}
    assert _numbers(quick) == kept  # the quick run leaves out the ridge maps and the query-time ablation rows
    stages = [stage for _, _, stage in seen]
    assert stages[0] == "reading the fashion data" and "image features" in stages and "text features" in stages
    assert seen[-1] == (7, 7, "scoring")  # 9 methods less the two ridge maps (no ablation rows)
    scoring = [done for done, total, stage in seen if stage == "scoring"]
    assert scoring == sorted(scoring) and scoring[0] == 0


def test_feature_progress_counts_each_missing_row(versions, tmp_path):
    settings, data, child, _ = versions
    cold = Settings.from_env({"data_dir": tmp_path / "cold", "demo_limit": 0}, environ={})
    cold.models_dir.parent.mkdir(parents=True, exist_ok=True)
    (cold.models_dir).symlink_to(settings.models_dir)  # the versions, without their cached features
    seen: list[tuple[int, int, str]] = []
    fashion.run(data, settings=cold, model=child, ridge=False, progress=lambda *a: seen.append(a))
    image = [(done, total) for done, total, stage in seen if stage == "image features"]
    assert image[0] == (0, 10) and image[-1] == (10, 10)
    text = [(done, total) for done, total, stage in seen if stage == "text features"]
    assert text[0][0] == 0 and text[-1][0] == text[-1][1] > 10  # titles, untitled texts and type names


def test_compare_versions_stores_both_reports_with_the_headline(versions):
    settings, data, child, parent = versions
    stages: list[str] = []
    result = encoder_comparison.compare_versions(
        data, settings, child, parent, encoder_comparison.QUICK, lambda d, t, stage: stages.append(stage)
    )
    assert any(s.startswith(f"after ({child}), version 1 of 2: ") for s in stages)
    assert stages[-1] == f"before ({parent}), version 2 of 2: scoring"
    newest, second = reports.list_reports(settings)[:2]
    assert (newest, second) == (result.stored["after"], result.stored["before"])
    after, before = reports.read(settings, newest), reports.read(settings, second)
    assert after["model_version"] == child and before["model_version"] == parent
    assert after["comparison"]["role"] == "after" and after["comparison"]["before_report"] == second
    headline = after["comparison"]["headline"]
    assert headline["after"] == after["methods"]["title->image/taillift_joint"]["metrics"]["recall@10"]
    assert headline["before"] == before["methods"]["title->image/taillift_joint"]["metrics"]["recall@10"]
    assert headline["verdict"] == encoder_comparison.verdict(headline["after"], headline["before"]) == result.verdict


def test_compare_without_a_parent_stores_the_child_alone(versions):
    settings, data, child, _ = versions
    result = encoder_comparison.compare_versions(data, settings, child, None)
    assert set(result.stored) == {"after"} and result.verdict is None and result.before is None


def test_verdict_at_the_shown_precision():
    assert encoder_comparison.verdict(0.3334, 0.3331) == "equal"
    assert encoder_comparison.verdict(0.340, 0.333) == "better"
    assert encoder_comparison.verdict(0.259, 0.679) == "worse"
    assert encoder_comparison.verdict(None, 0.5) is None and encoder_comparison.verdict(0.5, None) is None


def test_ridge_fit_without_copies_matches_the_direct_solution():
    """The memory-lean fit (in-place standardisation, fit Gram = all minus validation rows) gives the penalty and
    weights of the textbook one: fit rows copied out, standardised, solved."""
    import numpy as np
    import scipy.linalg

    from recsys.evaluation import fashion_scoring as scoring
    from recsys.splits import split_keys

    rng = np.random.default_rng(0)
    ids = [str(i) for i in range(800)]
    image = rng.standard_normal((800, 24)).astype(np.float32) * rng.uniform(0.5, 3, 24).astype(np.float32)
    text = (image[:, :8] @ rng.standard_normal((8, 6)) + 0.5 * rng.standard_normal((800, 6))).astype(np.float32)
    z = (image - image.mean(0)) / image.std(0)
    val = np.isin(ids, split_keys(ids, 0.1, salt="taillift-fashion-ridge-validation")[1])

    def solve(rows: np.ndarray, alpha: float) -> np.ndarray:
        x, y = z[rows], text[rows] - text[rows].mean(0)
        return scipy.linalg.solve(x.T @ x + alpha * len(x) * np.eye(24), x.T @ y, assume_a="pos")

    def mrr(alpha: float) -> float:
        pred = scoring.normalize_rows(z[val] @ solve(~val, alpha) + text[~val].mean(0))
        return scoring.paired_recall_mrr(scoring.normalize_rows(text[val]), pred, k=10)[1]

    best = max(scoring.RIDGE_ALPHAS, key=mrr)
    scores = scoring.validation_mrr(z.astype(np.float32), text, val, (z.T @ z).astype(np.float64))
    np.testing.assert_allclose([scores[a] for a in scoring.RIDGE_ALPHAS], [mrr(a) for a in scoring.RIDGE_ALPHAS])
    fitted = scoring.fit_ridge(image.copy(), text, ids)
    assert fitted.alpha == best and val.sum() >= scoring.RIDGE_MIN_VAL
    np.testing.assert_allclose(fitted.weights, solve(np.ones(800, bool), best), rtol=1e-3, atol=1e-4)


def test_a_shared_minilm_is_used_instead_of_loading_a_copy(versions, monkeypatch):
    from recsys.encoders import tower_path
    from recsys.encoders.text import TextEncoder

    settings, data, child, _ = versions
    shared = TextEncoder(settings.text_model, "cpu", settings.encode_batch_size)
    reference = fashion.run(data, settings=settings, model=child, ridge=False)

    def refuse(*args, **kwargs):
        raise AssertionError("a second MiniLM was loaded")

    monkeypatch.setattr(tower_path, "TextEncoder", refuse)
    quick = fashion.run(data, settings=settings, model=child, ridge=False, text=shared)
    assert _numbers(quick) == _numbers(reference)

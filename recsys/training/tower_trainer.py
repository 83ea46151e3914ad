"""The optimisation set-up of a tower fine-tuning run: its config, the model pieces and one training step.

``TowerTrainer`` owns a ``TowerClip`` whose last tower blocks are unfrozen: parameter groups (a lower learning
rate for the towers than for the heads), mixed precision on CUDA, gradient clipping and the one-cycle schedule.
``recsys/training/tower_finetune.py`` runs it over the data and saves the version; the benchmark times its steps.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from recsys.encoders.image_tower import ImageTower
from recsys.encoders.text import TextEncoder
from recsys.encoders.tower_clip import ClipHeads, TowerClip, TowerClipConfig
from recsys.training.losses import info_nce_with_negatives, symmetric_info_nce


@dataclass(frozen=True)
class TowerTrainingConfig:
    epochs: int = 2
    batch_size: int = 128  # every example runs both towers forward and backward: far smaller than for heads
    unfreeze_image_blocks: int = 2  # last EfficientNet-Lite0 MBConv blocks (of 16), plus the head conv; 0 = frozen
    unfreeze_text_layers: int = 2  # last MiniLM transformer layers (of 6); 0 = frozen
    head_lr: float = 1e-3
    tower_lr: float = 3e-5  # pretrained layers move slowly, or the features the heads rely on are destroyed
    weight_decay: float = 0.05  # matrices only; never on norms, biases or the temperature
    temperature_lr_scale: float = 20.0  # as in head training: the temperature barely moves otherwise
    hidden: int = 1024  # fresh heads only (a parent's heads keep their shape)
    embed_dim: int = 256  # fresh heads only
    temperature: float = 0.07  # initial temperature of fresh heads
    learn_temperature: bool = True  # False: the temperature stays where it starts (fresh: ``temperature``)
    patience: int = 0  # early stopping: epochs without a better validation recall@10 (best epoch kept); 0 = off
    grad_clip: float = 1.0  # max global grad norm; 0 = off
    mixed_precision: bool = True  # CUDA only: bf16 autocast where supported, else fp16 with a grad scaler
    log_q: bool = False  # logQ correction by item frequency (or ``pair_log_q``)
    val_fraction: float = 0.05  # same salted split as head training
    min_val_pairs: int = 100  # below this, metrics are reported on the training pairs
    seed: int = 0


# --- model pieces ---------------------------------------------------------------------------------------------


def _private_text(text: TextEncoder, device: torch.device) -> TextEncoder:
    clone = text.tuned_copy()
    clone.model.to(device)
    clone.device = device
    return clone


def _private_tower(tower: ImageTower, device: torch.device) -> ImageTower:
    clone = copy.deepcopy(tower)
    clone.to(device)
    clone.device = device
    return clone


def _fresh_heads(
    model_config: TowerClipConfig, image_feats: np.ndarray, text_feats: np.ndarray, seed: int
) -> ClipHeads:
    torch.manual_seed(seed)
    heads = ClipHeads(model_config)
    heads.visual.fit_standardisation(torch.from_numpy(image_feats))
    heads.text.fit_standardisation(torch.from_numpy(text_feats))
    return heads


def _param_groups(
    heads: ClipHeads, tower_params: Sequence[torch.nn.Parameter], config: TowerTrainingConfig
) -> tuple[list[dict], list[float]]:
    """AdamW groups: heads (decay on matrices), the temperature (no decay, faster), tower layers (lower lr)."""
    named = [(n, p) for n, p in heads.named_parameters() if n != "logit_scale"]
    groups = [
        ({"params": [p for _, p in named if p.ndim >= 2], "weight_decay": config.weight_decay}, config.head_lr),
        ({"params": [p for _, p in named if p.ndim < 2], "weight_decay": 0.0}, config.head_lr),
        (
            {"params": [heads.logit_scale] if config.learn_temperature else [], "weight_decay": 0.0},
            config.head_lr * config.temperature_lr_scale,
        ),
        ({"params": [p for p in tower_params if p.ndim >= 2], "weight_decay": config.weight_decay}, config.tower_lr),
        ({"params": [p for p in tower_params if p.ndim < 2], "weight_decay": 0.0}, config.tower_lr),
    ]
    kept = [(g, lr) for g, lr in groups if g["params"]]
    return [g for g, _ in kept], [lr for _, lr in kept]


def _amp(device: torch.device, enabled: bool) -> tuple[torch.dtype | None, torch.amp.GradScaler | None]:
    """(autocast dtype, grad scaler): bf16 without a scaler where the GPU has it, else fp16 with one; CPU: none."""
    if device.type != "cuda" or not enabled:
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


class TowerTrainer:
    """One optimisation set-up over a ``TowerClip`` whose last tower blocks are unfrozen (also used by the benchmark).

    ``step(pixels, token_ids, weights=None, log_q=None) -> loss`` runs one forward/backward/update.
    """

    def __init__(self, model: TowerClip, config: TowerTrainingConfig, total_steps: int, device: torch.device) -> None:
        self.model, self.config, self.device = model, config, device
        self.image_params = model.image_tower.unfreeze_last(config.unfreeze_image_blocks)
        self.text_params = model.text_encoder.unfreeze_last(config.unfreeze_text_layers)
        self.tower_params = self.image_params + self.text_params
        model.heads.logit_scale.requires_grad_(config.learn_temperature)
        groups, max_lrs = _param_groups(model.heads, self.tower_params, config)
        self.params = [p for g in groups for p in g["params"]]
        self.optimizer = torch.optim.AdamW(groups, lr=config.head_lr)
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=max_lrs, pct_start=0.1, total_steps=max(1, total_steps)
        )
        self.steps_left = max(1, total_steps)
        self.amp_dtype, self.scaler = _amp(device, config.mixed_precision)
        self.train()

    def train(self) -> None:
        self.model.heads.train()
        self.model.image_tower.train()  # keeps BatchNorm on its stored statistics
        text = self.model.text_encoder.model
        text.eval()
        layers = text.encoder.layer
        for layer in (
            layers[len(layers) - self.config.unfreeze_text_layers :] if self.config.unfreeze_text_layers else []
        ):
            layer.train()  # dropout only where weights are trained

    def eval(self) -> None:
        self.model.eval()
        self.model.text_encoder.model.eval()

    def step(
        self,
        pixels: torch.Tensor,
        token_ids: torch.Tensor,
        weights: torch.Tensor | None = None,
        log_q: torch.Tensor | None = None,
    ) -> float:
        autocast = (
            torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype is not None else nullcontext()
        )
        with autocast:
            image = self.model.encode_image(pixels.to(self.device, non_blocking=True))
            text = self.model.encode_text(token_ids.to(self.device, non_blocking=True))
        image, text = image.float(), text.float()  # the loss in float32
        q = None if log_q is None else log_q.to(self.device)
        if weights is None:
            loss = symmetric_info_nce(text, image, self.model.heads.logit_scale, q)
        else:
            loss = info_nce_with_negatives(
                text, image, self.model.heads.logit_scale, log_q=q, weights=weights.to(self.device)
            )
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.steps_left > 0:  # OneCycleLR raises past its last step (e.g. a benchmark's extra warm-up steps)
            self.schedule.step()
            self.steps_left -= 1
        return float(loss.detach())

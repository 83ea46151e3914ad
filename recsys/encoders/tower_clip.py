"""The offline CLIP: frozen packaged towers (EfficientNet-Lite0 + MiniLM) joined by trained projection heads.

It keeps open_clip's model contract (``encode_image(pixels, normalize)``, ``encode_text(token_ids, normalize)``,
``logit_scale``, ``forward -> dict``) plus a preprocess and a tokenizer, so ``ClipJoint`` serves it and any real
open_clip model with the same code. Training works on cached tower features through ``project_*``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from recsys.encoders.heads import ProjectionHead
from recsys.encoders.image_tower import ImageTower
from recsys.encoders.text import TextEncoder


@dataclass(frozen=True)
class TowerClipConfig:
    """Everything needed to rebuild the model; stored as config.json beside the head weights."""

    image_tower: str = "efficientnet_lite0"
    image_size: int = 128
    flip: bool = False  # test-time flip: +0.008 R@10 for twice the tower time, so off
    text_model: str = "sentence-transformers/all-MiniLM-L6-v2"
    image_dim: int = 3408
    text_dim: int = 384
    embed_dim: int = 256
    hidden: int = 1024
    init_temperature: float = 0.07
    # Tower fine-tuning (recsys/training/tower_finetune.py): how many of the last EfficientNet blocks (with the
    # head conv) and MiniLM layers the version's towers.pt replaces. 0 and 0: frozen packaged towers, heads only.
    image_tuned_blocks: int = 0
    text_tuned_layers: int = 0

    @property
    def tuned(self) -> bool:
        return self.image_tuned_blocks > 0 or self.text_tuned_layers > 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TowerClipConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class ClipHeads(nn.Module):
    """The trainable part alone: both projection heads and the learnable temperature."""

    def __init__(self, config: TowerClipConfig) -> None:
        super().__init__()
        self.visual = ProjectionHead(config.image_dim, config.embed_dim, config.hidden)
        self.text = ProjectionHead(config.text_dim, config.embed_dim, config.hidden)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.init_temperature)))

    def project_image(self, feats: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.visual(feats), dim=-1)

    def project_text(self, feats: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text(feats), dim=-1)


class TowerClip(nn.Module):
    """open_clip-style dual encoder over the towers; ``heads`` are trained, the towers frozen unless tuned.

    ``image_tower`` (default: the packaged one for ``config``) lets a tuned tower be passed in.
    """

    def __init__(
        self,
        config: TowerClipConfig,
        text_encoder: TextEncoder,
        heads: ClipHeads | None = None,
        device: torch.device | str = "cpu",
        image_tower: ImageTower | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        if image_tower is not None:
            image_tower.to(device)
            image_tower.device = torch.device(device)  # forward() moves its input there
        self.image_tower = (
            image_tower
            if image_tower is not None
            else ImageTower(config.image_tower, config.image_size, config.flip, device=device)
        )
        # Frozen MiniLM: shared with the text_bert route (loaded once). A tuned version gets its own copy.
        self.text_encoder = text_encoder
        self.heads = heads if heads is not None else ClipHeads(config)
        self.heads.to(device).eval()

    @property
    def logit_scale(self) -> nn.Parameter:
        return self.heads.logit_scale

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return self.image_tower.pixels([image])[0]

    def tokenizer(self, texts: Sequence[str]) -> torch.Tensor:
        return self.text_encoder.tokenize(list(texts))

    def encode_image(self, pixels: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        out = self.heads.visual(self.image_tower(pixels))
        return F.normalize(out, dim=-1) if normalize else out

    def encode_text(self, token_ids: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        out = self.heads.text(self.text_encoder.embed(token_ids))
        return F.normalize(out, dim=-1) if normalize else out

    def project_image_features(self, feats: torch.Tensor) -> torch.Tensor:
        """Joint vectors from image-tower features (cached ones, in bulk encoding): ``encode_image`` minus the tower."""
        return F.normalize(self.heads.visual(feats), dim=-1)

    def project_text_features(self, feats: torch.Tensor) -> torch.Tensor:
        """Joint vectors from ``text_encoder.encode`` rows: ``encode_text`` minus MiniLM."""
        return F.normalize(self.heads.text(feats), dim=-1)

    def forward(self, pixels: torch.Tensor, token_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            "image_features": self.encode_image(pixels),
            "text_features": self.encode_text(token_ids),
            "logit_scale": self.logit_scale.exp(),
        }


def seeded_heads(config: TowerClipConfig, seed: int = 0) -> ClipHeads:
    """Untrained heads with a fixed seed, so an untrained encoder still gives stable vectors."""
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return ClipHeads(config)
    finally:
        torch.random.set_rng_state(state)

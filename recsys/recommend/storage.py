"""Model artifacts on disk: ``<path>.npz`` (arrays) + ``<path>.json`` (meta), each written atomically.

The JSON is written last and records the sha256 of the npz, so it acts as the commit marker: a reader never
pairs new meta with old arrays (or a half-written npz) without noticing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from scipy import sparse

SPARSE_PARTS = ("data", "indices", "indptr", "shape")


def _atomic_write(path: Path, payload: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _paths(path: Path | str) -> tuple[Path, Path]:
    base = Path(path)
    base = base.with_suffix("") if base.suffix in (".npz", ".json") else base
    return base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")


def flatten(arrays: dict[str, np.ndarray | sparse.csr_matrix]) -> dict[str, np.ndarray]:
    """csr matrices become four plain arrays ``name.data`` ... so npz needs no pickle."""
    out: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if sparse.issparse(value):
            csr = sparse.csr_matrix(value)
            for part in SPARSE_PARTS:
                out[f"{name}.{part}"] = np.asarray(getattr(csr, part))
        else:
            out[name] = np.asarray(value)
    return out


def unflatten(flat: dict[str, np.ndarray]) -> dict[str, np.ndarray | sparse.csr_matrix]:
    out: dict[str, np.ndarray | sparse.csr_matrix] = {}
    for key, value in flat.items():
        name, _, part = key.rpartition(".")
        if part == "data" and f"{name}.indptr" in flat:
            shape = tuple(int(s) for s in flat[f"{name}.shape"])
            out[name] = sparse.csr_matrix((value, flat[f"{name}.indices"], flat[f"{name}.indptr"]), shape=shape)
        elif part not in SPARSE_PARTS or f"{name}.indptr" not in flat:
            out[key] = value
    return out


def save_artifact(path: Path | str, arrays: dict, meta: dict) -> tuple[Path, Path]:
    npz_path, json_path = _paths(path)
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as buffer:
        # mypy checks **arrays against the stub's bool allow_pickle keyword; passing allow_pickle instead would
        # store it as an array on numpy <= 2.1, which has no such keyword.
        np.savez_compressed(buffer, **flatten(arrays))  # type: ignore[arg-type]
        buffer.seek(0)
        payload = buffer.read()
    _atomic_write(npz_path, payload)
    meta = {**meta, "arrays_sha256": hashlib.sha256(payload).hexdigest()}
    _atomic_write(json_path, json.dumps(meta, indent=2, sort_keys=True).encode())
    return npz_path, json_path


def load_artifact(path: Path | str) -> tuple[dict, dict]:
    npz_path, json_path = _paths(path)
    meta = json.loads(json_path.read_text())
    payload = npz_path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != meta.get("arrays_sha256"):
        raise ValueError(f"{npz_path} does not match {json_path} (interrupted save or mixed versions)")
    with np.load(npz_path, allow_pickle=False) as npz:
        flat = {key: npz[key] for key in npz.files}
    return unflatten(flat), meta

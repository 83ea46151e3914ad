"""Reading a Parquet catalog (e.g. H&M's articles table) into the same plain rows a CSV or JSONL file gives.

Values keep their types (a number stays a number, a list a list) and go to ``validation`` as they are, like JSONL
values; only what Parquet has and JSON does not is made plain: a NaN or null is "not given" (pandas writes a
missing price as NaN), a decimal becomes its exact text, a date its ISO text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from decimal import Decimal
from typing import Any


class ParquetUnreadable(ValueError):
    """The file is not a Parquet table this reader can take; the message is a sentence for the merchant."""


def read_parquet_records(data: bytes, name: str, max_bytes: int) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, one dict per row) of a Parquet file's bytes; the uncompressed data must fit ``max_bytes`` too, so
    a small file cannot inflate past the limit a CSV of the same rows would meet."""
    try:
        import pyarrow.parquet as pq  # optional: only Parquet uploads need it
    except ImportError:
        raise ParquetUnreadable(
            f"{name} is Parquet, and reading Parquet needs the pyarrow package, which is not installed here; "
            "install it (pip install pyarrow) or upload the catalog as CSV or JSONL"
        ) from None
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        metadata = parquet.metadata
        inflated = sum(metadata.row_group(g).total_byte_size for g in range(metadata.num_row_groups))
        if inflated > max_bytes:
            raise ParquetUnreadable(
                f"{name} holds {inflated / 2**20:.0f} MiB of data uncompressed, over the "
                f"{max_bytes / 2**20:.0f} MiB limit"
            )
        columns = [str(c) for c in parquet.schema_arrow.names]
        if len(set(columns)) != len(columns):
            raise ParquetUnreadable(f"{name} repeats a column name: {columns}")
        records = parquet.read().to_pylist()
    except ParquetUnreadable:
        raise
    except Exception as exc:  # pyarrow raises its own error types (ArrowInvalid, OSError, ...) for a bad file
        raise ParquetUnreadable(f"{name} is not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    return columns, [{key: plain_value(value) for key, value in record.items()} for record in records]


def plain_value(value: Any) -> Any:
    """A Parquet cell as a JSON-like value: NaN is None, decimals and dates are text, nested values recurse."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Decimal):
        return None if value.is_nan() else format(value, "f")
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain_value(v) for key, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value

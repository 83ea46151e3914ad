"""Reading merchant bulk files safely: a catalog file (CSV or JSONL) and an images zip.

Nothing here writes anything. Whole-file problems (wrong encoding, missing columns, a hostile zip) raise
``ImportRefused``; per-row problems are returned so the importer can report them row by row.
"""
from __future__ import annotations

import csv
import io
import json
import posixpath
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"}
MAX_COMPRESSION_RATIO = 200  # a zip member inflating more than this is treated as a zip bomb


class ImportRefused(ValueError):
    """The whole upload is refused; nothing was written."""


@dataclass
class RawRow:
    number: int  # 1-based data row number (header excluded), as a merchant counts rows
    values: dict[str, object]
    problem: str = ""  # set when the row itself could not be parsed


def read_catalog_rows(path: Path, *, required_columns: tuple[str, ...], join_overflow: bool = False,
                      max_bytes: int = 200 * 1024 * 1024) -> tuple[list[str], list[RawRow]]:
    """Parse a CSV or JSONL catalog; return (columns, rows)."""
    size = Path(path).stat().st_size
    if size > max_bytes:
        raise ImportRefused(f"{Path(path).name} is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"{Path(path).name} is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8 and retry"
        ) from None
    if Path(path).suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        columns, rows = _read_jsonl(text)
    else:
        columns, rows = _read_csv(text, join_overflow)
    missing = [c for c in required_columns if c not in columns]
    if missing:
        raise ImportRefused(
            f"{Path(path).name} lacks required column(s) {', '.join(missing)}; found: {', '.join(columns) or 'none'}"
        )
    return columns, rows


def _read_csv(text: str, join_overflow: bool) -> tuple[list[str], list[RawRow]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportRefused("the catalog file is empty") from None
    except csv.Error as exc:
        raise ImportRefused(f"the header line is not valid CSV ({exc})") from None
    if len(set(header)) != len(header):
        raise ImportRefused(f"the header repeats a column name: {header}")
    rows: list[RawRow] = []
    number = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            rows.append(RawRow(number, {}, f"not valid CSV ({exc})"))
            continue
        if not any(f.strip() for f in fields):
            continue
        number += 1
        if len(fields) > len(header) and join_overflow:
            # Unquoted commas inside the last (free-text) column, a known quirk of some exports.
            fields = fields[: len(header) - 1] + [",".join(fields[len(header) - 1 :])]
        if len(fields) != len(header):
            rows.append(RawRow(number, {}, f"has {len(fields)} fields, the header has {len(header)}"))
            continue
        rows.append(RawRow(number, dict(zip(header, fields))))
    return header, rows


def _read_jsonl(text: str) -> tuple[list[str], list[RawRow]]:
    rows: list[RawRow] = []
    columns: dict[str, None] = {}
    for number, line in enumerate((l for l in text.splitlines() if l.strip()), start=1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(RawRow(number, {}, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(value, dict):
            rows.append(RawRow(number, {}, "is not a JSON object"))
            continue
        columns.update(dict.fromkeys(value))
        rows.append(RawRow(number, value))
    return list(columns), rows


@dataclass
class ImageArchive:
    """Read-only view of an images zip, checked for hostile entries before any member is read."""

    zf: zipfile.ZipFile
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # by normalised path and by basename
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path, *, max_zip_bytes: int, max_entries: int = 200_000) -> "ImageArchive":
        size = Path(path).stat().st_size
        if size > max_zip_bytes:
            raise ImportRefused(f"images zip is {size / 2**20:.0f} MiB, over the {max_zip_bytes / 2**20:.0f} MiB limit")
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportRefused(f"images file is not a readable zip ({exc})") from None
        archive = cls(zf)
        if len(zf.infolist()) > max_entries:
            zf.close()
            raise ImportRefused(f"images zip holds {len(zf.infolist()):,} entries, over the {max_entries:,} limit")
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if _unsafe_member_name(name):
                zf.close()
                raise ImportRefused(f"zip entry {name!r} has an unsafe path (absolute or '..'); the archive was refused")
            if stat.S_ISLNK(info.external_attr >> 16):
                zf.close()
                raise ImportRefused(f"zip entry {name!r} is a symbolic link; the archive was refused")
            normalised = posixpath.normpath(name.replace("\\", "/"))
            if posixpath.splitext(normalised)[1].lower() not in IMAGE_SUFFIXES:
                archive.ignored.append(name)
                continue
            archive.members[normalised] = info
            archive.members.setdefault(posixpath.basename(normalised), info)
        return archive

    def read(self, name: str, *, max_bytes: int) -> bytes:
        """The member's bytes; raises KeyError when absent and ValueError when over the caps."""
        info = self.members[posixpath.normpath(name.replace("\\", "/"))]
        if info.file_size > max_bytes:
            raise ValueError(f"{name} is {info.file_size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO and info.file_size > 1e6:
            raise ValueError(f"{name} inflates {info.file_size // info.compress_size}x (zip bomb guard)")
        with self.zf.open(info) as fh:
            data = fh.read(max_bytes + 1)  # never trust the declared size alone
        if len(data) > max_bytes:
            raise ValueError(f"{name} is over the {max_bytes / 2**20:.0f} MiB limit")
        return data

    def close(self) -> None:
        self.zf.close()


def _unsafe_member_name(name: str) -> bool:
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return True
    return ".." in unified.split("/")


def split_list(value: object) -> list[str]:
    """Image names given as 'a.jpg;b.jpg', 'a.jpg|b.jpg' or a JSON list."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v).strip() for v in json.loads(text) if str(v).strip()]
        except json.JSONDecodeError:
            pass
    for sep in (";", "|"):
        if sep in text:
            return [p.strip() for p in text.split(sep) if p.strip()]
    return [text] if text else []


def iter_batches(rows: list[RawRow], size: int) -> Iterator[list[RawRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]

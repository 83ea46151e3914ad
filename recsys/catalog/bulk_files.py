"""Reading merchant bulk files safely: a catalog file (CSV, JSONL or Parquet) and an images zip.

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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from recsys.catalog.parquet_rows import ParquetUnreadable, read_parquet_records

# A two-row example of the default columns, offered for download in the Merchant tab (ships with the package).
TEMPLATE_CSV = Path(__file__).resolve().parent / "templates" / "catalog_template.csv"
CSV_SUFFIXES = (".csv",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")
CATALOG_SUFFIXES = CSV_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"}
MAX_COMPRESSION_RATIO = 200  # a zip member inflating more than this is treated as a zip bomb


class ImportRefused(ValueError):
    """The whole upload is refused; nothing was written."""


@dataclass
class RawRow:
    number: int  # 1-based data row number (header excluded), as a merchant counts rows
    values: dict[str, object]
    problem: str = ""  # set when the row itself could not be parsed: a sentence for the merchant


def read_catalog_rows(
    path: Path, *, required_columns: tuple[str, ...], join_overflow: bool = False, max_bytes: int = 200 * 1024 * 1024
) -> tuple[list[str], list[RawRow]]:
    """Parse a CSV, JSONL or Parquet catalog (by its suffix; anything else is read as CSV); return (columns, rows).
    Raises only ``ImportRefused``."""
    path = Path(path)
    data = _read_regular_file(path, "catalog file", max_bytes)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            columns, records = read_parquet_records(data, path.name, max_bytes)
        except ParquetUnreadable as exc:
            raise ImportRefused(str(exc)) from None
        rows = [RawRow(number, values) for number, values in enumerate(records, start=1)]
        return _with_required(path, columns, required_columns), rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"{path.name} is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8 and retry"
        ) from None
    if path.suffix.lower() in JSONL_SUFFIXES:
        columns, rows = _read_jsonl(text)
    else:
        columns, rows = _read_csv(text, join_overflow)
    return _with_required(path, columns, required_columns), rows


def _with_required(path: Path, columns: list[str], required_columns: tuple[str, ...]) -> list[str]:
    missing = [c for c in required_columns if c not in columns]
    if missing:
        raise ImportRefused(
            f"{path.name} lacks required column(s) {', '.join(missing)}; found: {', '.join(columns) or 'none'}"
        )
    return columns


def _read_regular_file(path: Path, what: str, max_bytes: int) -> bytes:
    """The bytes of a plain file no bigger than ``max_bytes``; a directory, a device or an unreadable path is
    refused with a sentence, not an OSError traceback."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ImportRefused(f"the {what} {path.name!r} is {kind}; choose a file")
        if info.st_size > max_bytes:
            raise ImportRefused(
                f"{path.name} is {info.st_size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit"
            )
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the size may have changed since stat
    except OSError as exc:
        raise ImportRefused(f"the {what} {path.name!r} cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise ImportRefused(f"{path.name} is over the {max_bytes / 2**20:.0f} MiB limit")
    return data


class _Lines:
    """The file's physical lines, fed one at a time to ``csv.reader``; ``pos`` can be moved back to re-read."""

    def __init__(self, text: str) -> None:
        self.lines = io.StringIO(text, newline="").readlines()  # splits at \n, \r\n and \r, keeps them
        self.pos = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]

    def reader(self) -> Iterator[list[str]]:
        return csv.reader(self, strict=True)


def _read_csv(text: str, join_overflow: bool) -> tuple[list[str], list[RawRow]]:
    """Rows with their 1-based numbers. A record that spans several lines and does not parse (a quote opened and
    never closed swallows the lines after it) costs its first line only: that line is rejected and the lines it
    swallowed are read again as rows, so no row vanishes unmentioned."""
    lines = _Lines(text)
    reader = lines.reader()
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
        start = lines.pos
        problem = ""
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            fields, problem = [], f"row is not valid CSV ({exc})"
        if not problem and not any(f.strip() for f in fields):
            continue
        number += 1
        if len(fields) > len(header) and join_overflow:
            # Unquoted commas inside the last (free-text) column, a known quirk of some exports.
            fields = fields[: len(header) - 1] + [",".join(fields[len(header) - 1 :])]
        if not problem and len(fields) != len(header):
            problem = f"row has {len(fields)} fields, the header has {len(header)}"
        if not problem:
            rows.append(RawRow(number, dict(zip(header, fields))))
            continue
        if lines.pos - start > 1:
            problem = (
                f"line {start + 1}: {problem}; a quote on this line is never closed, so the "
                f"{lines.pos - start - 1} line(s) after it were read again as rows of their own"
            )
            lines.pos = start + 1
        rows.append(RawRow(number, {}, problem))
        reader = lines.reader()  # a fresh parser: no state carried over from the bad record
    return header, rows


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _read_jsonl(text: str) -> tuple[list[str], list[RawRow]]:
    """One JSON object per line. Only "\n" ends a line: U+2028 and friends are valid inside JSON strings."""
    rows: list[RawRow] = []
    columns: dict[str, None] = {}
    number = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line, object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            rows.append(RawRow(number, {}, f"row repeats the key {exc.args[0]!r}"))
            continue
        except json.JSONDecodeError as exc:
            rows.append(RawRow(number, {}, f"row is not valid JSON ({exc.msg})"))
            continue
        except (ValueError, RecursionError) as exc:  # an integer of thousands of digits; nesting too deep
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
            rows.append(RawRow(number, {}, f"row is not valid JSON ({reason})"))
            continue
        if not isinstance(value, dict):
            rows.append(RawRow(number, {}, "row is not a JSON object"))
            continue
        columns.update(dict.fromkeys(value))
        rows.append(RawRow(number, value))
    return list(columns), rows


@dataclass
class ImageArchive:
    """Read-only view of an images zip, checked for hostile entries before any member is read."""

    zf: zipfile.ZipFile
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # by normalised path and by basename
    ignored: list[str] = field(default_factory=list)  # entries that are not images
    images: list[str] = field(default_factory=list)  # image entries, in zip order
    referenced: set[str] = field(default_factory=set)  # image entries some row named

    @classmethod
    def open(cls, path: Path, *, max_zip_bytes: int, max_entries: int = 200_000) -> ImageArchive:
        try:
            file_info = Path(path).stat()
        except OSError as exc:
            raise ImportRefused(f"the images zip {Path(path).name!r} cannot be read ({exc.strerror or exc})") from None
        if not stat.S_ISREG(file_info.st_mode):
            raise ImportRefused(f"the images zip {Path(path).name!r} is not a file; choose a .zip file")
        if file_info.st_size > max_zip_bytes:
            raise ImportRefused(
                f"images zip is {file_info.st_size / 2**20:.0f} MiB, over the {max_zip_bytes / 2**20:.0f} MiB limit"
            )
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
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
                raise ImportRefused(
                    f"zip entry {name!r} has an unsafe path (absolute or '..'); the archive was refused"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                zf.close()
                raise ImportRefused(f"zip entry {name!r} is a symbolic link; the archive was refused")
            normalised = posixpath.normpath(name.replace("\\", "/"))
            if posixpath.splitext(normalised)[1].lower() not in IMAGE_SUFFIXES:
                archive.ignored.append(name)
                continue
            archive.members[normalised] = info
            archive.images.append(name)
            archive.members.setdefault(posixpath.basename(normalised), info)
        return archive

    def read(self, name: str, *, max_bytes: int) -> bytes:
        """The member's bytes; raises KeyError when absent and ValueError when over the caps."""
        info = self.members[posixpath.normpath(name.replace("\\", "/"))]
        self.referenced.add(info.filename)
        if info.file_size > max_bytes:
            raise ValueError(f"{name} is {info.file_size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO and info.file_size > 1e6:
            raise ValueError(f"{name} inflates {info.file_size // info.compress_size}x (zip bomb guard)")
        try:
            with self.zf.open(info) as fh:
                data = fh.read(max_bytes + 1)  # never trust the declared size alone
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
            # A bad CRC, corrupt deflate data, an encrypted member (RuntimeError), an unknown compression method.
            raise ValueError(f"cannot be read from the zip ({exc})") from None
        if len(data) > max_bytes:
            raise ValueError(f"{name} is over the {max_bytes / 2**20:.0f} MiB limit")
        return data

    def unreferenced(self) -> list[str]:
        """Image entries no row named (read so far), in zip order: the merchant should know they were skipped."""
        return [name for name in self.images if name not in self.referenced]

    def close(self) -> None:
        self.zf.close()


def _unsafe_member_name(name: str) -> bool:
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return True
    return ".." in unified.split("/")


def image_names(value: object, problems: list[str]) -> list[str]:
    """Image names given as 'a.jpg;b.jpg', 'a.jpg|b.jpg', a JSON list as text, or (JSONL) a list of texts."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                problems.append("images looks like a JSON list but is not valid JSON")
                return []
        else:
            for sep in (";", "|"):
                if sep in text:
                    return [p.strip() for p in text.split(sep) if p.strip()]
            return [text] if text else []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        problems.append("images must be file names: text, or a list of texts")
        return []
    return [v.strip() for v in value if v.strip()]


def iter_batches(rows: list[RawRow], size: int) -> Iterator[list[RawRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]

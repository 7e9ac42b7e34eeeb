"""Reading FOCUS export files (CSV, CSV.gz, Parquet) batch by batch, and saying precisely
why one cannot be read.

A broken file (a cut gzip upload, bytes that are not UTF-8, a quote left open) raises
``ExportFileError`` with the line where the readable data stops, so on-call opens the
right file at the right place.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from extractors.coerce import Coercer, RowError

_ts = Coercer(pa.schema([pa.field("t", pa.timestamp("us", tz="UTC"))]))


def utc_timestamp(value: Any) -> datetime | None:
    """A FOCUS date-time as UTC, or None when it is missing or not one."""
    try:
        return _ts({"t": value})["t"]
    except RowError:
        return None


def _open(fs: fsspec.AbstractFileSystem, path: str):
    return fs.open(path, "rb", compression="gzip" if path.lower().endswith(".gz") else None)


class ExportFileError(Exception):
    """One export file cannot be read: what is wrong with it and, for CSV, on which line.

    The extractor turns it into a FatalSourceError whose record is ``<file>:<line>``,
    relative to the configured root, so on-call opens the right file at the right place.
    """

    def __init__(self, detail: str, line: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.line = line
        self.name: str | None = None  # the file, relative to the root; set by the catalogue

    def record(self, name: str) -> str:
        return f"{name}:{self.line}" if self.line else name


_BLOCK = 1 << 22
# The compression layer's own errors: a cut upload ends the gzip stream before its trailer.
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def _gzip_problem(fs: fsspec.AbstractFileSystem, path: str, exc: Exception) -> ExportFileError:
    """The gzip error with the line where the readable data stops (decompressed afresh)."""
    newlines = 0
    inflate = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    try:
        with fs.open(path, "rb") as raw:
            while block := raw.read(_BLOCK):
                newlines += inflate.decompress(block).count(b"\n")
    except zlib.error:
        pass
    if isinstance(exc, EOFError):
        detail = "truncated gzip: the compressed stream ends before its end marker"
    else:
        detail = f"corrupt gzip data ({exc})"
    line = newlines + 1
    return ExportFileError(f"{detail}; the readable data stops in line {line}", line)


class _Counted(io.RawIOBase):
    """The bytes pyarrow reads, passed through while counting quotes.

    Counting is a C-speed ``bytes.count`` a block. An odd count at the end says the
    file may end inside a quoted field, which pyarrow would read as a short last value.
    """

    def __init__(self, raw: Any):
        self.raw = raw
        self.quotes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.quotes += data.count(b'"')
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _blocks(fs: fsspec.AbstractFileSystem, path: str) -> Iterator[bytes]:
    with _open(fs, path) as raw:
        while block := raw.read(_BLOCK):
            yield block


def _invalid_utf8(fs: fsspec.AbstractFileSystem, path: str) -> ExportFileError | None:
    """Where the first byte that is not UTF-8 is (line and byte offset), if there is one."""
    offset = newlines = 0
    carry = b""
    for block in _blocks(fs, path):
        data = carry + block
        try:
            data.decode("utf-8")
            good, carry = len(data), b""
        except UnicodeDecodeError as exc:
            if exc.end == len(data) and exc.reason == "unexpected end of data":
                good, carry = exc.start, data[exc.start :]  # a character split by the block
            else:
                newlines += data.count(b"\n", 0, exc.start)
                byte = data[exc.start : exc.start + 1].hex()
                return ExportFileError(
                    f"byte 0x{byte} at byte offset {offset + exc.start} is not UTF-8 "
                    "(FOCUS exports are UTF-8; was this file saved as Latin-1 or Windows-1252?)",
                    line=newlines + 1,
                )
        newlines += data.count(b"\n", 0, good)
        offset += good
    if carry:
        return ExportFileError(
            f"the file ends inside a UTF-8 character at byte offset {offset}", line=newlines + 1
        )
    return None


# One CSV field as pyarrow reads it: a quote opens a quoted field only at the field's
# start, "" inside is a quote, and a quoted field without its closing quote runs to EOF.
_FIELD = re.compile(rb'"(?:[^"]|"")*("?)[^,\r\n]*|[^,\r\n]*')


def _open_quote(fs: fsspec.AbstractFileSystem, path: str) -> ExportFileError | None:
    """The line where a quoted field starts that the file never closes, if one does.

    Run only when the quotes do not pair up (or pyarrow failed), so the slow scan is
    paid by broken files alone; it holds the file in memory, as only a cut file needs it.
    """
    data = b"".join(_blocks(fs, path))
    position, end = 0, len(data)
    while position < end:
        match = _FIELD.match(data, position)
        assert match is not None  # the pattern matches an empty field too
        if match.group(0).startswith(b'"') and not match.group(1):
            line = data.count(b"\n", 0, match.start()) + 1
            return ExportFileError(
                f"the file ends inside a quoted field that starts on line {line} "
                "(a truncated export: the quote is never closed)",
                line=line,
            )
        position = match.end() + 1  # past the delimiter or newline
        if data[match.end() : match.end() + 2] == b"\r\n":
            position += 1
    return None


def _header(fs: fsspec.AbstractFileSystem, path: str) -> list[str]:
    # Bytes first: a bad byte in the first rows must not be blamed on the header.
    try:
        with _open(fs, path) as raw:
            line = raw.readline()
    except _GZIP_ERRORS as exc:
        raise _gzip_problem(fs, path, exc) from None
    if not line.strip():
        raise ExportFileError("the file has no header line (an empty CSV)", line=1)
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportFileError(
            f"byte 0x{line[exc.start : exc.start + 1].hex()} at byte offset {exc.start} of the "
            "header is not UTF-8 (FOCUS exports are UTF-8)",
            line=1,
        ) from None
    return [c.strip() for c in next(csv.reader([text.rstrip("\r\n")]), [])]


def _csv_problem(fs: fsspec.AbstractFileSystem, path: str, exc: Exception) -> ExportFileError:
    """The real cause behind pyarrow's CSV error: a non-UTF-8 byte, a cut quote, or its own."""
    found = _invalid_utf8(fs, path) or _open_quote(fs, path)
    return found or ExportFileError(f"not valid CSV: {exc}")


def read_batches(
    fs: fsspec.AbstractFileSystem,
    path: str,
    columns: list[str] | None = None,
    batch_rows: int = 65_536,
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """Column names and string-typed batches of one export file (only ``columns`` if given).

    Raises ``ExportFileError`` (also while iterating) when the file is empty, cut short,
    not UTF-8 or not the format its name says, naming the line where it can.
    """
    if fs.size(path) == 0:
        raise ExportFileError("the file is 0 bytes (an empty or failed upload)")
    if path.lower().endswith(".parquet"):
        handle = _open(fs, path)
        try:
            parquet = pq.ParquetFile(handle)
        except (OSError, pa.ArrowInvalid) as exc:
            handle.close()
            raise ExportFileError(f"not a Parquet file, or a truncated one ({exc})") from None
        names = parquet.schema_arrow.names
        wanted = [c for c in columns if c in names] if columns else None

        def batches() -> Iterator[pa.RecordBatch]:
            with handle:
                try:
                    yield from parquet.iter_batches(batch_size=batch_rows, columns=wanted)
                except (OSError, pa.ArrowInvalid) as exc:
                    raise ExportFileError(f"corrupt Parquet data ({exc})") from None

        return names, batches()
    names = _header(fs, path)
    counted = _Counted(_open(fs, path))
    handle = io.BufferedReader(counted, buffer_size=_BLOCK)
    try:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK),
            # Tags and descriptions may hold quoted newlines: rows must not split inside them.
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                null_values=["NULL", ""],
                strings_can_be_null=True,
                include_columns=[c for c in columns if c in names] if columns else None,
            ),
        )
    except _GZIP_ERRORS as exc:
        handle.close()
        raise _gzip_problem(fs, path, exc) from None
    except pa.ArrowInvalid as exc:
        handle.close()
        raise _csv_problem(fs, path, exc) from None

    def csv_batches() -> Iterator[pa.RecordBatch]:
        with handle:
            try:
                yield from reader
            except _GZIP_ERRORS as exc:
                raise _gzip_problem(fs, path, exc) from None
            except pa.ArrowInvalid as exc:
                raise _csv_problem(fs, path, exc) from None
            if counted.quotes % 2:
                problem = _open_quote(fs, path)
                if problem:
                    raise problem

    return names, csv_batches()

"""Coerce one source record to a landing schema, or say exactly why it does not fit."""

from __future__ import annotations

import decimal
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from landing.window import to_utc

_DECIMALS = decimal.Context(prec=60)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class RowError(ValueError):
    """A record does not fit the schema; the message is the quarantine reason."""


# Text that no landing column may hold, as (RE2 / Python regex, why). PostgreSQL's text
# cannot store NUL at all (the COPY fails with CharacterNotInRepertoire); the other C0
# controls are corruption (a binary blob, a broken encoding), never a tag or a name.
# Tab, newline and carriage return are data. Written once: the row-wise Coercer and the
# Arrow bulk path of extractors.landing both apply exactly these.
CONTROL_CHARACTERS = (
    (r"\x00", "holds a NUL byte (\\x00), which PostgreSQL cannot store"),
    (
        r"[\x01-\x08\x0b\x0c\x0e-\x1f]",
        "holds a C0 control character (other than tab, newline and carriage return), "
        "which is corruption, not text",
    ),
)
_CONTROL = [(re.compile(pattern), reason) for pattern, reason in CONTROL_CHARACTERS]


def control_character_problem(column: str, text: str) -> str | None:
    """The quarantine reason when ``text`` holds a character no column may hold."""
    for pattern, reason in _CONTROL:
        if pattern.search(text):
            return f"column {column} {reason}"
    return None


def control_character_masks(column: str, values: pa.ChunkedArray | pa.Array):
    """The same rule column-wise: (rows that break it, reason) per kind of character."""
    import pyarrow.compute as pc

    for pattern, reason in CONTROL_CHARACTERS:
        yield pc.match_substring_regex(values, pattern), f"column {column} {reason}"


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Mapping | list):
        return json.dumps(value, sort_keys=True, default=str)
    raise RowError(f"not text: {value!r}")


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime | date):
        return to_utc(value)
    if isinstance(value, str):
        try:
            return to_utc(datetime.fromisoformat(value.strip()))
        except ValueError:
            pass
    raise RowError(f"unparseable timestamp {value!r}")


def _money(scale: int, precision: int) -> Callable[[Any], Decimal]:
    quantum = Decimal(1).scaleb(-scale)

    def convert(value: Any) -> Decimal:
        if isinstance(value, bool):
            raise RowError(f"not a number: {value!r}")
        try:
            number = (
                Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
            )
        except decimal.InvalidOperation:
            raise RowError(f"unparseable number {value!r}") from None
        if not number.is_finite():
            raise RowError(f"not a finite number: {value!r}")
        # Checked before quantize: 1e400 at 12 decimals needs more digits than any context.
        if number and number.adjusted() >= precision - scale:
            raise RowError(f"number too large for decimal({precision},{scale}): {value!r}")
        number = number.quantize(quantum, context=_DECIMALS)
        if len(number.as_tuple().digits) > precision:
            raise RowError(f"number too large for decimal({precision},{scale}): {value!r}")
        return number

    return convert


def _count(bits: int) -> Callable[[Any], int]:
    limit = 2 ** (bits - 1)

    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise RowError(f"not an integer: {value!r}")
        if isinstance(value, int):
            number = value
        else:
            try:
                exact = (
                    Decimal(repr(value))
                    if isinstance(value, float)
                    else Decimal(str(value).strip())
                )
            except decimal.InvalidOperation:
                raise RowError(f"unparseable integer {value!r}") from None
            if not exact.is_finite() or exact != exact.to_integral_value():
                raise RowError(f"not an integer: {value!r}")
            number = int(exact)
        # Every integer column of the landing schemas is a count (tokens, requests, users).
        if number < 0:
            raise RowError(f"negative count {number}")
        if number >= limit:
            raise RowError(f"integer too large: {number}")
        return number

    return convert


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise RowError(f"not a number: {value!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise RowError(f"unparseable number {value!r}") from None
    if not math.isfinite(number):
        raise RowError(f"not a finite number: {value!r}")
    return number


_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise RowError(f"not a boolean: {value!r}")


def _converter(field: pa.Field) -> Callable[[Any], Any]:
    kind = field.type
    if pa.types.is_string(kind):
        if field.name.endswith("currency"):

            def currency(value: Any) -> str:
                code = _string(value).strip().upper()
                if not _CURRENCY.match(code):
                    raise RowError(f"not an ISO 4217 currency code: {value!r}")
                return code

            return currency
        return _string
    if pa.types.is_timestamp(kind):
        return _timestamp
    if pa.types.is_decimal(kind):
        return _money(kind.scale, kind.precision)
    if pa.types.is_integer(kind):
        return _count(kind.bit_width)
    if pa.types.is_floating(kind):
        return _float
    if pa.types.is_boolean(kind):
        return _bool
    raise TypeError(f"no coercion for {field.name}: {kind}")


class Coercer:
    """Turns dicts keyed by landing column name into rows that fit ``schema`` exactly."""

    def __init__(self, schema: pa.Schema):
        self.fields = [(f.name, f.nullable, _converter(f)) for f in schema]
        self.text = {f.name for f in schema if pa.types.is_string(f.type)}

    def __call__(self, record: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, nullable, convert in self.fields:
            value = record.get(name)
            if value is None or value == "":
                if not nullable:
                    raise RowError(f"missing required field {name}")
                row[name] = None
                continue
            try:
                row[name] = convert(value)
            except RowError as exc:
                raise RowError(f"{name}: {exc}") from None
            if name in self.text:
                problem = control_character_problem(name, row[name])
                if problem:
                    raise RowError(problem)
        return row


class RejectReasons:
    """Per row of a batch, why it cannot land (null where it can), checked column-wise.

    A check's reason is built only when some row fails it: most batches have none. A
    row failing several checks keeps its first reason, or with a ``separator``, all of
    them joined.
    """

    def __init__(self, separator: str | None = None):
        self.separator = separator
        self.array: pa.Array | None = None

    def check(self, failing: pa.Array, reason: str | Callable[[], pa.Array | str]) -> None:
        """Give ``reason`` to the rows ``failing``; a callable is called only if some row does."""
        failing = pc.fill_null(failing, False)
        if not pc.any(failing).as_py():
            return
        text = reason if isinstance(reason, str) else reason()
        new = pc.if_else(failing, text, pa.scalar(None, pa.string()))
        if self.array is None:
            self.array = new
        elif self.separator is None:
            self.array = pc.coalesce(self.array, new)
        else:
            both = pc.binary_join_element_wise(self.array, new, self.separator)
            self.array = pc.coalesce(both, self.array, new)

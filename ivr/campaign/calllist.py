"""A campaign's call list: a CSV file of whom to call, one row per callee.

The file is UTF-8 (a byte-order mark is allowed) with a header row. `number` is required;
`name` (the callee's name), `id` (a stable row key) and `uri` (this row's own SIP address,
instead of the campaign's trunk) are optional; every column, these included, is also a
placeholder value for the script (`{name}`, `{number}`, `{amount}`, ...). Rows that cannot be
called (no number, not a phone number, a key or number already on an earlier row) are left
out, each with a one-line problem naming its line; the rest of the list stands. A `uri` that is
no valid SIP address (`sip_uri_problem`; a `{number}` in it included: a uri cell is dialed as
written) refuses the whole list, so that no campaign dials a list whose addresses cannot be
reached. Problems show numbers masked.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ivr.errors import IvrError
from ivr.privacy import mask_number

NUMBER_COLUMN = "number"
NAME_COLUMN = "name"
KEY_COLUMN = "id"
URI_COLUMN = "uri"

MIN_DIGITS = 3
"""The fewest digits a phone number may have (short service numbers such as 110)."""

MAX_DIGITS = 20
"""The most digits a phone number may have (E.164 allows 15; room for an extension prefix)."""

_PHONE_NUMBER = re.compile(r"\+?[0-9](?:[ -]*[0-9])*")
"""Digits with an optional leading +, spaces and dashes between them."""

_ESCAPED = r"%[0-9A-Fa-f]{2}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PARAM = r"(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+"
SIP_URI = re.compile(
    rf"sips?:(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|{_ESCAPED})+"  # user
    rf"(?::(?:[A-Za-z0-9\-_.!~*'()&=+$,]|{_ESCAPED})*)?"  # :password
    rf"@(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])"  # host: name, IPv4, [IPv6]
    rf"(?::(\d{{1,5}}))?"  # :port
    rf"(?:;{_PARAM}(?:={_PARAM})?)*"  # ;uri-parameters
)
"""sip:USER@HOST[:PORT][;param=value...] (or sips:), as RFC 3261 (19.1.1) spells it: the user
may hold letters, digits, -_.!~*'()&=+$,;?/ and %XX escapes; the host is a name, an IPv4
address or an [IPv6] address."""

PLACEHOLDER = re.compile(r"\{[^{}]*\}")

INTERNATIONAL_PREFIX = "00"
"""What is dialed in China before a country code (as + is written)."""

COUNTRY_CODE = "86"
"""China's country code, ignored when numbers are compared."""


def sip_uri_problem(uri: str) -> str | None:
    """What makes `uri` no SIP address to dial (one phrase, numbers masked), or None if it is
    one (SIP_URI, its port 1 to 65535)."""
    match = SIP_URI.fullmatch(uri)
    if match is None:
        found = PLACEHOLDER.search(uri)
        if found:
            return f"a uri cell is dialed as written ({found.group(0)} is filled only in --trunk)"
        return "give sip:USER@HOST[:PORT]"
    if match.group(1) is not None and not 1 <= int(match.group(1)) <= 65535:
        return f"port {match.group(1)} is not 1 to 65535"
    return None


def phone_digits(number: str) -> str | None:
    """The digits of a phone number (a leading + kept), or None if `number` is not one.

    A phone number is digits with an optional leading +, spaces and dashes between them
    allowed, MIN_DIGITS to MAX_DIGITS digits: `+86 138-1234-5678` -> `+8613812345678`."""
    text = number.strip()
    if not _PHONE_NUMBER.fullmatch(text):
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return None
    return ("+" if text.startswith("+") else "") + digits


def national_number(number: str) -> str | None:
    """The number as it is dialed within China, for comparing numbers; None if not a number.

    Digits only, the country code dropped when written `+86` or `0086`; a bare leading `86` is
    dropped only from 12 digits on (no Chinese number written nationally is that long and
    starts with 86, while a local 8-digit number may start with 86). Other countries' numbers
    keep their `+` (`00` becomes `+`), so that they never match a Chinese one:
    `+86 138 1234 5678`, `008613812345678`, `8613812345678` -> `13812345678`;
    `001 555 123 4567` -> `+15551234567`."""
    digits = phone_digits(number)
    if digits is None:
        return None
    if digits.startswith(INTERNATIONAL_PREFIX):
        digits = "+" + digits.removeprefix(INTERNATIONAL_PREFIX)
    if digits.startswith("+" + COUNTRY_CODE):
        return digits.removeprefix("+" + COUNTRY_CODE) or None
    if digits.startswith(COUNTRY_CODE) and len(digits) >= 12:
        return digits.removeprefix(COUNTRY_CODE)
    return digits


@dataclass(frozen=True)
class CallRow:
    """One callee of the call list.

    `key`: the row's stable key, its `id` column if given, else `line N`. `line`: the file's
    line the row starts on (the header is line 1). `number`: as written (stripped). `name`,
    `uri`: the optional columns, None when absent or empty. `values`: every column (stripped),
    the script's placeholder values for this call."""

    key: str
    line: int
    number: str
    name: str | None
    uri: str | None
    values: dict[str, str] = field(hash=False)

    @property
    def digits(self) -> str:
        """The number to dial: its digits, with its leading + if written (`+8613812345678`)."""
        return phone_digits(self.number) or self.number


@dataclass
class CallList:
    """The callable rows of a call list in file order, the problems of the others, the file
    and its columns (as the header names them, stripped)."""

    path: Path
    rows: list[CallRow]
    problems: list[str]
    columns: tuple[str, ...] = ()


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IvrError(f"{path}: cannot read the call list: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IvrError(
            f"{path}: the call list is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
        ) from None


def _lines(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """The CSV records with the line each starts on, blank ones (and `,,,`) left out."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    try:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return records
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
    except csv.Error as exc:
        raise IvrError(f"{path}:{reader.line_num}: not CSV: {exc}") from None


def _header(path: Path, records: list[tuple[int, list[str]]]) -> list[str]:
    if not records:
        raise IvrError(f"{path}: the call list is empty (it needs a header row: number,name,...)")
    line, cells = records[0]
    columns = [cell.strip() for cell in cells]
    seen = set()
    for column in columns:
        if column and column in seen:
            raise IvrError(f"{path}:{line}: column {column!r} is named twice in the header")
        seen.add(column)
    if NUMBER_COLUMN not in columns:
        named = ", ".join(repr(mask_number(c)) for c in columns if c)
        raise IvrError(f"{path}:{line}: the header has no {NUMBER_COLUMN!r} column ({named})")
    return columns


class _RowChecker:
    """Turns the records after the header into rows, keeping keys and numbers seen."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.keys: dict[str, int] = {}
        self.numbers: dict[str, int] = {}

    def row(self, line: int, cells: list[str]) -> CallRow:
        """The row on `line`; ValueError with the problem if it cannot be called."""
        extra = [c for c in cells[len(self.columns) :] if c.strip()]
        if extra:
            raise ValueError(f"{len(cells)} fields, but the header names {len(self.columns)}")
        values = dict.fromkeys((c for c in self.columns if c), "")
        values.update((c, v.strip()) for c, v in zip(self.columns, cells, strict=False) if c)
        number = values[NUMBER_COLUMN]
        if not number:
            raise ValueError("no number")
        national = national_number(number)
        if national is None:
            raise ValueError(f"not a phone number: {mask_number(number)!r}")
        uri = values.get(URI_COLUMN) or None
        problem = sip_uri_problem(uri) if uri is not None else None
        if uri is not None and problem is not None:
            raise IvrError(f"invalid SIP address {mask_number(uri)!r}: {problem}")
        key = values.get(KEY_COLUMN) or f"line {line}"
        if key in self.keys:
            raise ValueError(f"id {mask_number(key)!r} is already on line {self.keys[key]}")
        if national in self.numbers:
            shown = mask_number(number)
            raise ValueError(f"number {shown!r} is already on line {self.numbers[national]}")
        self.keys[key], self.numbers[national] = line, line
        name = values.get(NAME_COLUMN) or None
        return CallRow(key, line, number, name, uri, values)


def read_call_list(path: Path | str) -> CallList:
    """The call list in `path`: its callable rows and the problems of the others.

    IvrError (naming the file) if it cannot be read, is not UTF-8 CSV, its header is missing
    or has no `number` column, or a row's `uri` is no SIP address (naming its line)."""
    path = Path(path)
    records = _lines(path, _decode(path))
    columns = _header(path, records)
    checker = _RowChecker(columns)
    rows, problems = [], []
    for line, cells in records[1:]:
        try:
            rows.append(checker.row(line, cells))
        except ValueError as exc:
            problems.append(f"{path}:{line}: {exc}")
        except IvrError as exc:  # the whole list is refused: the campaign must not start
            raise IvrError(f"{path}:{line}: {exc}") from None
    return CallList(path, rows, problems, tuple(c for c in columns if c))

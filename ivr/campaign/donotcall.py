"""The do-not-call list: numbers a campaign must never dial (免打扰名单).

Either a text file of one number per line (blank lines and `#` comments ignored, also after a
number), or a CSV file whose header has a `number` column (other columns ignored; one record a
line, lines starting with `#` ignored). Numbers are
compared as `national_number` compares them: by their digits, a leading country code 86
ignored on both sides, so `+86 138 1234 5678` on the list keeps `13812345678` from being
called. A line that is not a phone number fails the whole list rather than being passed over:
a campaign must not start while someone on the list could be called.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from ivr.campaign.calllist import NUMBER_COLUMN, national_number
from ivr.errors import IvrError
from ivr.privacy import mask_number

COMMENT = "#"


class DoNotCall:
    """A set of numbers not to call: `number in do_not_call`; `path`: the file it came from."""

    def __init__(self, numbers: Iterable[str] = (), path: Path | None = None) -> None:
        self.path = path
        self._numbers: set[str] = set()
        for number in numbers:
            national = national_number(number)
            if national is None:
                raise ValueError(f"not a phone number: {mask_number(number)!r}")
            self._numbers.add(national)

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, str):
            return False
        national = national_number(number)
        return national is not None and national in self._numbers

    def __len__(self) -> int:
        return len(self._numbers)

    def __repr__(self) -> str:
        return f"DoNotCall({len(self)} numbers from {self.path})"


def _entries(text: str) -> list[tuple[int, str]]:
    """The (line, number) entries of the file: every line of a number list, the `number`
    column of a CSV file (one record a line); blank and comment lines left out."""
    lines = [
        (index, line.strip())
        for index, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith(COMMENT)
    ]
    if not lines:
        return []
    columns = [cell.strip() for cell in next(csv.reader([lines[0][1]]))]
    if NUMBER_COLUMN not in columns:
        return [(index, line.split(COMMENT, 1)[0].strip()) for index, line in lines]
    column = columns.index(NUMBER_COLUMN)
    entries = []
    for index, line in lines[1:]:
        cells = next(csv.reader([line]))
        if column < len(cells) and cells[column].strip():
            entries.append((index, cells[column].strip()))
    return entries


def read_do_not_call(path: Path | str) -> DoNotCall:
    """The do-not-call list in `path`; IvrError naming the file (and line) if it cannot be
    read, is not UTF-8, or holds something that is not a phone number."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise IvrError(f"{path}: cannot read the do-not-call list: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise IvrError(
            f"{path}: the do-not-call list is not UTF-8 text (byte {exc.start})"
        ) from None
    numbers = []
    for line, number in _entries(text):
        if national_number(number) is None:
            raise IvrError(f"{path}:{line}: not a phone number: {mask_number(number)!r}")
        numbers.append(number)
    return DoNotCall(numbers, path)

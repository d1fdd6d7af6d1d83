"""File names made from data: a call-list row's id, a campaign's name, a recording's stem.

The rule (`safe_name`), whatever the text holds:

- Unicode is normalized (NFC); each path separator (`/`, `\\`), control or format character
  (NUL, tab, newline, bidi marks, ...), line or paragraph separator and each of `<>:"|?`
  becomes `_`. Spaces, Chinese and
  `*` (the mask of a phone number, 138****5678) are kept.
- Leading dots, dashes and spaces are dropped (no hidden file, nothing read as an option, no
  `.` or `..`), and so are trailing dots and spaces (Windows drops them).
- A Windows device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with any suffix) gets a leading
  `_`; an empty result is `_`.
- The name is cut to at most MAX_NAME_BYTES bytes of UTF-8 (never inside a character), so that
  a suffix such as `-12.timeline.jsonl` still fits the 255 bytes a file name may have.

`unique_names` keeps names apart after that: texts that end up with the same name (`a/b` and
`a_b`, or names that differ only in case) get `-2`, `-3`, ... in their order. `inside` is the
last check before writing: the resolved path must lie in the output folder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ivr.errors import IvrError

MAX_NAME_BYTES = 120
"""The longest safe name (bytes of UTF-8), before the suffixes a command adds."""

REPLACEMENT = "_"
"""What stands for a character a file name must not hold."""

_FORBIDDEN = frozenset('/\\<>:"|?')
"""Path separators, and characters Windows (and most shells) refuse in a file name."""

_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\..*)?")
"""Windows device names, which name no file whatever their suffix."""


def _allowed(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch not in _FORBIDDEN and category[0] != "C" and category not in ("Zl", "Zp")


def _cut(name: str, max_bytes: int) -> str:
    """`name` cut to at most `max_bytes` bytes of UTF-8, on a character boundary."""
    data = name.encode("utf-8")
    if len(data) <= max_bytes:
        return name
    return data[:max_bytes].decode("utf-8", errors="ignore")


def safe_name(text: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """`text` as a file name that stays in the folder it is written to, by the module's rule:
    `../../etc/x` -> `_.._etc_x`, `/etc/x` -> `_etc_x`, `-rf` -> `rf`, `..` -> `_`."""
    name = "".join(ch if _allowed(ch) else REPLACEMENT for ch in unicodedata.normalize("NFC", text))
    name = _cut(name.lstrip(". -"), max_bytes).rstrip(". ")
    if _DEVICE.fullmatch(name):
        name = _cut(REPLACEMENT + name, max_bytes).rstrip(". ")
    return name or REPLACEMENT


def unique_names(texts: Iterable[str], max_bytes: int = MAX_NAME_BYTES) -> list[str]:
    """The safe name of each text, in order; a name already given (compared without case, as
    on macOS and Windows disks) gets `-2`, `-3`, ... (the name cut to make room)."""
    names, taken = [], set()
    for text in texts:
        base = safe_name(text, max_bytes)
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            suffix = f"-{n}"
            name = _cut(base, max_bytes - len(suffix)) + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


def inside(folder: Path, path: Path) -> Path:
    """`path`, once checked that it resolves (symbolic links followed) to a place inside
    `folder`; IvrError naming both otherwise. The last guard before a data-named file is
    written: `safe_name` should already have made this so."""
    root = Path(folder).resolve()
    if not Path(path).resolve().is_relative_to(root):
        raise IvrError(f"{path}: refused: it would be written outside {folder}")
    return path

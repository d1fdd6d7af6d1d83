"""Keeping callers' phone numbers out of what ivr prints and stores."""

from __future__ import annotations

import re
from typing import Any

MIN_DIGITS = 7
"""Runs of at least this many digits are taken for phone numbers and masked."""

KEEP_HEAD = 3
"""Digits kept at the start of a masked number (the mobile carrier prefix, e.g. 138)."""

KEEP_TAIL = 4
"""Digits kept at the end of a masked number."""

MIN_MASKED = 4
"""Digits always masked, so a short number (7 to 10 digits) is never shown whole."""

MASK = "*"

_NUMBER = re.compile(rf"(?<![A-Z]{{3}}-)(?<!\d)\d(?:[ -]?\d){{{MIN_DIGITS - 1},}}")
"""A run of 7 or more digits, optionally grouped by single spaces or hyphens (138-1234-5678),
not right after an upper-case code and a hyphen: the figures of a cause such as Asterisk AMD's
LONGGREETING-1520-1500 are no number."""


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = [i for i, ch in enumerate(run) if ch.isdigit()]
    masked = max(MIN_MASKED, len(digits) - KEEP_HEAD - KEEP_TAIL)
    tail = min(KEEP_TAIL, len(digits) - masked)
    head = len(digits) - masked - tail
    hidden = set(digits[head : head + masked])
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(run))


def mask_number(text: str) -> str:
    """`text` with every phone number masked, for display: 13812345678 -> 138****5678.

    A run of 7 or more digits (single spaces or hyphens between digits allowed; they are kept)
    keeps its first 3 and last 4 digits, the rest become `*`. At least 4 digits are always
    masked: for a run of 7 to 10 digits fewer are kept, first at the start (12345678 ->
    ****5678, 1234567 -> ****567). Shorter runs (agent ids, amounts, times) are left alone.
    """
    return _NUMBER.sub(_mask_run, text)


def mask_value(value: Any) -> Any:
    """`value` with every phone number masked in every string inside it: strings, and the keys
    and values of dicts, lists and tuples, recursively; anything else as it is."""
    if isinstance(value, str):
        return mask_number(value)
    if isinstance(value, dict):
        return {mask_value(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value

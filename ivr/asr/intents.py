"""Intents from text, and the recognition settings: pure Python, no Vosk.

An intent is a name with the phrases that express it (`{"confirm": ["是", "对"], "deny":
["不是"]}`). `match_intent` finds which intent a text expresses, for recognized text and for
reference transcripts alike: both are compared in `normalize`d form, so case, punctuation and
spacing (Vosk puts spaces between words) do not matter.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar


def normalize(text: str) -> str:
    """`text` for matching: NFKC-folded, lowercased, without punctuation and whitespace.

    Punctuation is every Unicode punctuation character, ASCII (`,.!?`) and CJK (`,。!?、「」`)
    alike (`%` too); symbols such as `+` or `$` are kept. "不是,我 没有!" -> "不是我没有".
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(
        c for c in folded if not c.isspace() and not unicodedata.category(c).startswith("P")
    )


def match_intent(text: str, intents: Mapping[str, Sequence[str]]) -> str | None:
    """The intent one of whose phrases occurs in `text` (both normalized), or None.

    The longest matching phrase wins, so "不是" (deny) beats the "是" (confirm) inside it; phrases
    of equal length go to the intent listed first. Phrases that normalize to nothing never match.
    """
    haystack = normalize(text)
    if not haystack:
        return None
    best: str | None = None
    best_len = 0
    for intent, phrases in intents.items():
        for phrase in phrases:
            needle = normalize(phrase)
            if len(needle) > best_len and needle in haystack:
                best, best_len = intent, len(needle)
    return best


@dataclass(frozen=True)
class AsrSettings:
    """How recognition results are judged and which audio the recognizer hears.

    Checked on creation: a bad value raises `ValueError` naming the parameter and its range.
    A grammar result that contains the model's unknown-word token is always rejected: any such
    token means part of the utterance was none of the phrases listened for, and a partly
    understood answer must not pass for a full one (so there is no tolerated fraction).
    """

    min_confidence: float = 0.6
    """Results whose mean word confidence (Vosk's per-word posterior, 0.0 to 1.0) is below
    this are rejected. 0.0 accepts every non-empty result."""
    padding_ms: int = 200
    """Audio fed to the recognizer before and after each speech segment (ms), so that soft
    word onsets and endings cut off by the voice-activity detector are heard. Callers round
    it to whole 20 ms frames."""

    min_coverage: float = 0.6
    """With a grammar, Vosk forces out-of-grammar speech onto grammar words, often onto a
    short phrase that sounds a little alike. A result whose words span less than this fraction
    of the speech (the free transcript's span) explains too little of it and is rejected."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "min_confidence": (0.0, 1.0),
        "padding_ms": (0, 1000),
        "min_coverage": (0.0, 1.0),
    }

    def __post_init__(self) -> None:
        conf = self.min_confidence
        low, high = self._ranges["min_confidence"]
        if isinstance(conf, bool) or not isinstance(conf, int | float) or math.isnan(conf):
            raise ValueError(f"min_confidence must be a number in {low}..{high}, got {conf!r}")
        if not low <= conf <= high:
            raise ValueError(f"min_confidence must be in {low}..{high}, got {conf}")
        object.__setattr__(self, "min_confidence", float(conf))
        coverage = self.min_coverage
        if isinstance(coverage, bool) or not isinstance(coverage, int | float):
            raise ValueError(f"min_coverage must be a number in 0.0..1.0, got {coverage!r}")
        if not 0.0 <= coverage <= 1.0:
            raise ValueError(f"min_coverage must be in 0.0..1.0, got {coverage}")
        object.__setattr__(self, "min_coverage", float(coverage))

        pad = self.padding_ms
        low, high = self._ranges["padding_ms"]
        if isinstance(pad, bool) or not isinstance(pad, int):
            raise ValueError(f"padding_ms must be a whole number of ms, got {pad!r}")
        if not low <= pad <= high:
            raise ValueError(f"padding_ms must be in {low:g}..{high:g} ms, got {pad}")

"""Recognition during a call: which audio the recognizer hears, and where its text comes from.

The recognizer hears only the callee's speech: each speech segment the engine counts, with
`padding_ms` of audio before and after it. Because a segment's start is known only once its
onset is confirmed (and is then dated back), the session keeps the last seconds of audio in a
ring. Two backends: Vosk (the real recognizer, the default) and reference transcripts taken
from a test-call manifest, so that every content-dependent branch of a script can be replayed
on a machine without a Chinese model.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ivr.audio.format import FRAME_S, FRAME_SAMPLES
from ivr.corpus.labels import load_labels

RING_FRAMES = 250
"""Frames of past audio kept for recognition (5 s): more than any onset delay plus padding."""


class AudioRing:
    """The last frames of the callee's audio, addressable by absolute frame number."""

    def __init__(self, keep_frames: int = RING_FRAMES) -> None:
        self.keep = keep_frames
        self._blocks: deque[tuple[int, np.ndarray]] = deque()

    def add(self, base: int, block: np.ndarray) -> None:
        """Add frames [base, base + len(block)); forget what is older than `keep` before them."""
        self._blocks.append((base, block))
        while self._blocks and (
            self._blocks[0][0] + self._blocks[0][1].shape[0] <= base - self.keep
        ):
            self._blocks.popleft()

    @property
    def start(self) -> int:
        """The oldest frame still held."""
        return self._blocks[0][0] if self._blocks else 0

    @property
    def end(self) -> int:
        """One past the newest frame held."""
        if not self._blocks:
            return 0
        base, block = self._blocks[-1]
        return base + block.shape[0]

    def get(self, first: int, stop: int) -> np.ndarray:
        """Frames [first, stop) as (n, 320) int16, clipped to what is held."""
        parts = []
        for base, block in self._blocks:
            a, b = max(first, base), min(stop, base + block.shape[0])
            if a < b:
                parts.append(block[a - base : b - base])
        if not parts:
            return np.zeros((0, FRAME_SAMPLES), dtype=np.int16)
        return np.concatenate(parts)


class Utterance(Protocol):
    """A recognition in progress: fed consecutive frames, then finished."""

    def accept(self, frames: np.ndarray) -> None: ...

    def finish(self) -> Any: ...


class AsrBackend(Protocol):
    """Makes a recognition for speech starting at `start_frame`, listening for `intents`."""

    padding_frames: int

    def start(self, start_frame: int, intents: Mapping[str, Sequence[str]]) -> Utterance: ...


class VoskBackend:
    """The real recognizer (ivr.asr.recognizer) over a loaded model."""

    def __init__(self, model: Any, settings: Any = None) -> None:
        from ivr.asr.intents import AsrSettings

        self.model = model
        self.settings = settings or AsrSettings()
        self.padding_frames = round(self.settings.padding_ms / (FRAME_S * 1000))

    def start(self, start_frame: int, intents: Mapping[str, Sequence[str]]) -> Utterance:
        from ivr.asr.recognizer import UtteranceRecognizer

        return UtteranceRecognizer(self.model, intents or None, self.settings, start_frame)


class _ReferenceUtterance:
    def __init__(self, backend: ReferenceBackend, start: int, intents: Mapping) -> None:
        self.backend, self.first, self.stop, self.intents = backend, start, start, intents

    def accept(self, frames: np.ndarray) -> None:
        self.stop += frames.shape[0]

    def finish(self) -> Any:
        from ivr.asr.intents import match_intent
        from ivr.asr.recognizer import Recognition

        a, b = self.first * FRAME_S, self.stop * FRAME_S
        texts = [text for start, end, text in self.backend.segments if start < b and end > a]
        text = " ".join(t for t in texts if t)
        intent = match_intent(text, self.intents) if text and self.intents else None
        return Recognition(
            text=text,
            words=(),
            intent=intent,
            confidence=1.0 if text else 0.0,
            rejected=not text,
            reason="reference transcript" if text else "no reference transcript",
            free_text=text,
        )


class ReferenceBackend:
    """Text from the manifest's labelled speech segments of one call (start_s, end_s, text)."""

    def __init__(self, segments: Sequence[tuple[float, float, str]], padding_frames: int = 10):
        self.segments = list(segments)
        self.padding_frames = padding_frames

    def start(self, start_frame: int, intents: Mapping[str, Sequence[str]]) -> Utterance:
        return _ReferenceUtterance(self, start_frame, intents)


def reference_transcripts(manifest: Path) -> dict[str, list[tuple[float, float, str]]]:
    """File name -> its labelled speech (start_s, end_s, text), from a manifest's `speech:`
    (ivr.corpus.labels); ManifestError naming the file and field."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for call in load_labels(manifest):
        call.require("file", "speech")
        out[call.name] = [(s.start_s, s.end_s, s.text) for s in call.speech or ()]
    return out

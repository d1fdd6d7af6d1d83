"""Recognizing one utterance with Vosk: grammar recognition of intent phrases, plus a transcript.

While a call listens for intents, each utterance goes to two Vosk recognizers fed the same
audio: one restricted to the phrases of the intents (a grammar, plus the model's unknown-word
token so that other speech has somewhere to go) decides the intent; one without a grammar
keeps a free transcript for the record. Vosk forces speech that is none of the phrases onto
the phrases nevertheless, so grammar results are rejected when they contain the unknown-word
token, when their mean word confidence is low, or when they are empty.

How well that works depends on the model. Vosk's word confidences come from a narrowly
pruned lattice (lattice beam 2 in the official small models), so a forced phrase often keeps
confidence 1.0; and the small Korean model, for one, puts most out-of-grammar sentences onto a
phrase that fits many sounds (아니요) rather than onto its unknown-word token.

Word times are seconds of call audio: the recognizer is told the call frame its audio starts
at. Audio goes to Vosk in fixed 200 ms chunks, whatever blocks `accept` is given.

Kaldi dithers its features with noise drawn from the C library's global `rand()`, so the
same audio decoded later in a process got other confidences and, near a rejection limit,
another outcome. Each utterance therefore reseeds `rand()` (DITHER_SEED) before its first
chunk: the same utterance gives the same recognition whatever was decoded before it.
"""

from __future__ import annotations

import ctypes
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ivr.asr.intents import AsrSettings, match_intent
from ivr.audio.format import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from ivr.errors import ModelNotFoundError

try:
    from ivr.asr.models import load_model as _load_model
except ImportError:  # the model module is optional: fall back to loading with vosk directly
    _load_model = None

UNK_TOKENS = ("[unk]", "<UNK>", "<unk>")
"""Spellings of the unknown-word token in Vosk models, tried in this order."""

CHUNK_FRAMES = 10
"""Frames handed to Vosk at a time (200 ms, the step Vosk decodes in anyway)."""

MAX_SPLIT_CHARS = 12
"""Longest model word tried when splitting an unspaced phrase into words (characters)."""

DITHER_SEED = 1
"""Seed of the C library's `rand()` at the start of each utterance (Kaldi's dither noise)."""

try:
    _LIBC: Any = ctypes.CDLL(None)
except OSError:  # no C library to load symbols from: dither stays as Kaldi draws it
    _LIBC = None


def reseed_dither() -> None:
    """Reseed the `rand()` Kaldi draws its dither noise from, so decoding is repeatable."""
    if _LIBC is not None and hasattr(_LIBC, "srand"):
        _LIBC.srand(DITHER_SEED)


def open_vosk_model(path: str | Path) -> Any:
    """Load the Vosk model in `path` (raises ModelNotFoundError naming the path)."""
    if _load_model is not None:
        return _load_model(path)
    import vosk

    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(model_path=str(path))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelNotFoundError(f"{path}: vosk cannot load a model from it: {exc}") from exc


@dataclass(frozen=True)
class Word:
    """One recognized word: start and end in seconds of call audio, confidence 0.0 to 1.0."""

    word: str
    start_s: float
    end_s: float
    conf: float


@dataclass(frozen=True)
class Recognition:
    """What was understood of one utterance.

    `text` is the grammar result (the free transcript when no intents were listened for),
    `words` its words with times and confidences, `confidence` their mean (0.0 without words),
    `intent` the intent matched in an accepted text (None when rejected or when no phrase
    matched), `reason` why it was rejected or how it was understood, `free_text` the transcript
    of the recognizer without grammar.
    """

    text: str
    words: tuple[Word, ...]
    intent: str | None
    confidence: float
    rejected: bool
    reason: str
    free_text: str


class SpeechModel:
    """A loaded Vosk model and what it knows: its vocabulary and its unknown-word token."""

    def __init__(self, path: str | Path) -> None:
        """Load the model in `path` (seconds; raises ModelNotFoundError naming the path)."""
        self.path = Path(path)
        self.model = open_vosk_model(self.path)
        self._ids: dict[str, int] = {}
        self.unk_token: str | None = next((t for t in UNK_TOKENS if self._id(t) >= 0), None)
        """The model's unknown-word token ("[unk]", "<UNK>" or "<unk>"), None if it has none."""

    def __repr__(self) -> str:
        return f"SpeechModel({str(self.path)!r}, unk_token={self.unk_token!r})"

    def _id(self, word: str) -> int:
        found = self._ids.get(word)
        if found is None:
            find = getattr(self.model, "find_word", None) or self.model.vosk_model_find_word
            found = self._ids[word] = int(find(word))
        return found

    def has_word(self, word: str) -> bool:
        """Whether `word` is in the model's vocabulary (the unknown-word token, `<eps>`,
        sentence marks and `#` disambiguation symbols are not words)."""
        if not word or word == self.unk_token or word.startswith("#") or word[0] == "<":
            return False
        return self._id(word) > 0

    def _model_word(self, token: str) -> str | None:
        """`token` as spelled in the model (as given, else lowercased), or None."""
        return next((t for t in (token, token.lower()) if self.has_word(t)), None)

    def _split(self, token: str) -> list[str] | None:
        """`token` as the fewest model words it is made of, or None.

        Only for scripts written without spaces (Chinese, or Korean phrases not in the
        vocabulary as one word): a token with ASCII characters is never split.
        """
        if not token or not all(ord(c) > 127 for c in token) or len(token) > 4 * MAX_SPLIT_CHARS:
            return None
        best: list[list[str] | None] = [[]] + [None] * len(token)
        for end in range(1, len(token) + 1):
            for start in range(max(0, end - MAX_SPLIT_CHARS), end):
                before, current = best[start], best[end]
                if before is None or (current is not None and len(before) + 1 >= len(current)):
                    continue
                word = self._model_word(token[start:end])
                if word is not None:
                    best[end] = [*before, word]
        return best[-1]

    def grammar_phrase(self, phrase: str) -> str | None:
        """`phrase` as a Vosk grammar entry (model words joined by spaces), or None.

        Each space-separated part must be a model word; a part that is not may be split into
        model words ("好的谢谢" -> "好的 谢谢"). Punctuation is dropped.
        """
        words: list[str] = []
        for part in phrase.split():
            token = "".join(
                c
                for c in unicodedata.normalize("NFKC", part)
                if not unicodedata.category(c).startswith("P")
            )
            word = self._model_word(part) or (self._model_word(token) if token else None)
            pieces = [word] if word is not None else self._split(token)
            if token and not pieces:
                return None
            words.extend(pieces or [])
        return " ".join(words) or None

    def vocabulary_filter(self, phrases: Sequence[str]) -> tuple[list[str], list[str]]:
        """(kept, dropped): grammar entries of the phrases Vosk can recognize, and the others.

        `kept` holds each usable phrase as `grammar_phrase` spells it (duplicates once);
        `dropped` the phrases as given that contain a word the model does not know. Nothing is
        logged: callers warn about what was dropped.
        """
        kept: list[str] = []
        dropped: list[str] = []
        for phrase in phrases:
            entry = self.grammar_phrase(phrase)
            if entry is None:
                dropped.append(phrase)
            elif entry not in kept:
                kept.append(entry)
        return kept, dropped


def _words(result: str, offset_s: float) -> list[Word]:
    """The words of one Vosk result (JSON), times moved by `offset_s` and rounded to ms."""
    return [
        Word(
            str(w["word"]),
            round(offset_s + float(w["start"]), 3),
            round(offset_s + float(w["end"]), 3),
            float(w["conf"]),
        )
        for w in json.loads(result).get("result", [])
    ]


class _Stream:
    """One Vosk recognizer and the words of the results it has returned so far."""

    def __init__(self, recognizer: Any, offset_s: float) -> None:
        self.recognizer = recognizer
        self.offset_s = offset_s
        self.words: list[Word] = []
        recognizer.SetWords(True)

    def feed(self, data: bytes) -> None:
        if self.recognizer.AcceptWaveform(data):  # an endpoint: the result so far is final
            self.words.extend(_words(self.recognizer.Result(), self.offset_s))

    def partial(self) -> str:
        current = json.loads(self.recognizer.PartialResult()).get("partial", "")
        return " ".join([w.word for w in self.words] + ([current] if current else []))

    def finish(self) -> list[Word]:
        self.words.extend(_words(self.recognizer.FinalResult(), self.offset_s))
        return self.words


class UtteranceRecognizer:
    """Recognizes one utterance: fed consecutive frames from call frame `start_frame` on.

    With `intents`, a grammar recognizer decides the intent and a free one keeps a transcript;
    without, only the free one runs. Phrases with words the model does not know are left out
    of the grammar and listed in `dropped`.
    """

    def __init__(
        self,
        model: SpeechModel,
        intents: Mapping[str, Sequence[str]] | None,
        settings: AsrSettings | None = None,
        start_frame: int = 0,
    ) -> None:
        from vosk import KaldiRecognizer

        self.model = model
        self.intents = dict(intents or {})
        self.settings = settings or AsrSettings()
        self.start_frame = start_frame
        self.frames = 0
        """Frames accepted so far."""
        offset_s = start_frame * FRAME_S
        phrases = [p for ps in self.intents.values() for p in ps]
        self.grammar, self.dropped = model.vocabulary_filter(phrases)
        self._grammar: _Stream | None = None
        reseed_dither()
        if self.intents:
            entries = self.grammar + ([model.unk_token] if model.unk_token else [])
            if entries:  # an empty grammar would leave Vosk without a decoding graph
                grammar = json.dumps(entries, ensure_ascii=False)
                self._grammar = _Stream(
                    KaldiRecognizer(model.model, SAMPLE_RATE, grammar), offset_s
                )
        self._free = _Stream(KaldiRecognizer(model.model, SAMPLE_RATE), offset_s)
        self._pending = np.zeros((0, FRAME_SAMPLES), np.int16)
        self._result: Recognition | None = None

    def accept(self, frames: np.ndarray) -> None:
        """Add the next (n, 320) int16 frames of the utterance (n may be 0)."""
        if self._result is not None:
            raise RuntimeError("accept() after finish(): start a new UtteranceRecognizer")
        if frames.ndim != 2 or frames.shape[1] != FRAME_SAMPLES or frames.dtype != np.int16:
            raise TypeError(f"expected (n, {FRAME_SAMPLES}) int16 frames, got {frames.shape}")
        self.frames += frames.shape[0]
        self._pending = np.concatenate([self._pending, frames])
        self._feed(final=False)

    def _feed(self, final: bool) -> None:
        """Hand Vosk the pending audio in whole chunks (and the rest too when `final`)."""
        data = self._pending
        whole = len(data) if final else len(data) // CHUNK_FRAMES * CHUNK_FRAMES
        for i in range(0, whole, CHUNK_FRAMES):
            chunk = np.ascontiguousarray(data[i : i + CHUNK_FRAMES], dtype="<i2").tobytes()
            for stream in (self._grammar, self._free):
                if stream is not None:
                    stream.feed(chunk)
        self._pending = data[whole:]

    def partial(self) -> str:
        """The text recognized so far (grammar recognizer when listening for intents)."""
        stream = self._grammar if self._grammar is not None else self._free
        return stream.partial()

    def finish(self) -> Recognition:
        """End of the utterance: the result (the same one if called again)."""
        if self._result is None:
            self._feed(final=True)
            free_words = self._free.finish()
            free_text = " ".join(w.word for w in free_words)
            if self._grammar is None:
                self._result = self._judge_free(tuple(free_words), free_text)
            else:
                span = free_words[-1].end_s - free_words[0].start_s if free_words else 0.0
                self._result = self._judge(tuple(self._grammar.finish()), free_text, span)
        return self._result

    def _judge_free(self, words: tuple[Word, ...], free_text: str) -> Recognition:
        if self.intents:  # listening, but no phrase is in the model's vocabulary
            reason = "no phrase of the intents is in the model's vocabulary"
            return Recognition("", (), None, 0.0, True, reason, free_text)
        if not words:
            return Recognition("", (), None, 0.0, True, "no speech", free_text)
        conf = _mean_conf(words)
        return Recognition(free_text, words, None, conf, False, "free transcript", free_text)

    def _judge(self, words: tuple[Word, ...], free_text: str, span_s: float) -> Recognition:
        """Accept a grammar result only if it is one phrase, sure enough, covering the speech.

        Vosk fits any speech to a sequence of grammar entries: out-of-grammar speech comes out
        as several phrases strung together, or as one short phrase over a longer utterance.
        A callee's answer is one phrase, so both are rejected, as are unknown-word tokens and
        low confidence."""
        text = " ".join(w.word for w in words)
        covered = sum(w.end_s - w.start_s for w in words)
        conf = _mean_conf(words)
        unk = self.model.unk_token
        unknown = sum(w.word == unk for w in words) if unk else 0
        if not words:
            reason = "no speech" if not free_text else "nothing recognized in the grammar"
        elif unknown:
            reason = f"unknown words: {unknown} of {len(words)} words are {unk}"
        elif conf < self.settings.min_confidence:
            reason = f"low confidence {conf:.2f} < min_confidence {self.settings.min_confidence}"
        elif text not in self.grammar:
            reason = f"not one phrase: {text!r} strings grammar phrases together"
        elif span_s > 0 and covered < self.settings.min_coverage * span_s:
            reason = (
                f"covers {covered:.2f} s of {span_s:.2f} s of speech "
                f"< min_coverage {self.settings.min_coverage}"
            )
        else:
            intent = match_intent(text, self.intents)
            reason = "grammar" if intent is not None else "grammar, no intent phrase in the text"
            return Recognition(text, words, intent, conf, False, reason, free_text)
        return Recognition(text, words, None, conf, True, reason, free_text)


def _mean_conf(words: Sequence[Word]) -> float:
    return float(np.mean([w.conf for w in words])) if words else 0.0

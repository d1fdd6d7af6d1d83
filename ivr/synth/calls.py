"""One labelled call: its explicit spec, its rendering at 16 kHz and its manifest entry.

A call is the callee side of a phone call: utterances placed at given times and levels, line
noise, optional dropouts, non-speech sounds (clicks, breathing), and what the recorder adds (a
DC offset, clipping). A stereo call also holds the agent's side. Everything random (noise,
babble talkers, dropouts, sounds) comes from the call's own seed, so a call renders the same
alone or within a corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ivr.audio.format import FRAME_S, FRAME_SAMPLES
from ivr.corpus.manifest import (
    EXPECTED_CLASSIFICATION,
    NOISE_TYPES,
    SIDES,
    SITUATIONS,
    SPEECHLESS_SITUATIONS,
)
from ivr.synth.channel import CODINGS, dropout_mask
from ivr.synth.impulses import Sound, check_sound, place_sounds
from ivr.synth.levels import active_frames, scale_to_active_level, scale_unclipped, to_int16
from ivr.synth.noise import make_noise
from ivr.synth.speech import load_phrase

MERGE_GAP_S = 0.3
"""Pauses shorter than this (s) inside an utterance stay inside one labelled segment."""

MAX_DURATION_S = 600.0
"""Longest call accepted (s)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Utterance:
    """Something the callee says."""

    start_s: float
    """When the utterance's audio starts (s), rounded to the nearest 20 ms frame."""
    phrase: str
    """A text to synthesize, or `human:<path>` of a recording under the testdata directory."""
    level_dbfs: float = -20.0
    """Active speech level (dBFS) the utterance is scaled to."""


@dataclass(frozen=True)
class CallSpec:
    """Everything that defines one call; rendering it is deterministic."""

    name: str
    """File stem: letters, digits, `_`, `-`, `.`."""
    situation: str
    """One of ivr.corpus.manifest.SITUATIONS (answers_at_once, never_answers, clicks, ...)."""
    duration_s: float
    """Length of the call (s), rounded to whole 20 ms frames."""
    utterances: tuple[Utterance, ...] = ()
    channel: str = "clean"
    """clean (16 kHz PCM_16 WAV) | telephone (300-3400 Hz, 8 kHz mu-law WAV) | telephone_alaw
    (the same, A-law)."""
    noise: str = "none"
    """none | white | pink | babble | hum | office."""
    noise_dbfs: float | None = None
    """RMS level of the noise over the whole call (dBFS); None exactly when noise is none."""
    dropouts: bool = False
    """Zero the speech for 160-400 ms every 300-600 ms (the noise continues)."""
    seed: int = 0
    """Seed of everything random in this call."""
    sounds: tuple[Sound, ...] = ()
    """Non-speech sounds on the line (clicks, pops, knocks, breaths), not labelled as speech."""
    dc_offset: float = 0.0
    """DC offset the recorder adds after the line (fraction of full scale, -0.5..0.5)."""
    clipping: bool = False
    """Utterance levels are the talker's before the recorder clips at full scale (an
    overdriven talker); otherwise a level that would clip is refused."""
    agent: tuple[Utterance, ...] = ()
    """Stereo: what the agent's side holds (our prompts or an agent's voice), over its own
    draw of the same noise."""
    callee_channel: str | None = None
    """left | right: a stereo file with the callee on this side and the agent on the other;
    None: a mono file of the callee alone."""

    @property
    def file(self) -> str:
        """The call's WAV file name."""
        return f"{self.name}.wav"


@dataclass(frozen=True)
class RenderedCall:
    """A rendered call, before channel coding."""

    spec: CallSpec
    audio: np.ndarray
    """The call: 16 kHz mono int16 (speech plus noise)."""
    speech: np.ndarray
    """The speech alone after dropouts: 16 kHz mono int16."""
    noise: np.ndarray
    """The noise alone: 16 kHz mono float64 in int16 units."""
    entry: dict[str, Any] = field(repr=False)
    """The call's manifest entry (see ivr.corpus.manifest)."""
    sounds: np.ndarray | None = field(default=None, repr=False)
    """The non-speech sounds alone (16 kHz float64, int16 units); None without any."""
    agent: np.ndarray | None = field(default=None, repr=False)
    """Stereo: the agent's side with its noise (16 kHz int16); None for a mono call."""

    @property
    def file_audio(self) -> np.ndarray:
        """What the file holds before coding: `audio`, or (n, 2) with the callee on its side."""
        if self.agent is None:
            return self.audio
        sides = (self.audio, self.agent)
        if self.spec.callee_channel == "right":
            sides = (self.agent, self.audio)
        return np.stack(sides, axis=1)


def render_call(spec: CallSpec) -> RenderedCall:
    """Render `spec` at 16 kHz and label it. Raises `ValueError` naming the call on a bad spec."""
    _check_spec(spec)
    frames = round(spec.duration_s / FRAME_S)
    n = frames * FRAME_SAMPLES
    noise_seed, dropout_seed, sound_seed, agent_seed = np.random.SeedSequence(spec.seed).spawn(4)
    mask = None
    if spec.dropouts and spec.utterances:
        # The cut-in-out pattern starts when the callee starts speaking.
        origin = min(round(u.start_s / FRAME_S) for u in spec.utterances)
        mask = np.ones(frames)
        mask[origin:] = dropout_mask(max(0, frames - origin), np.random.default_rng(dropout_seed))
    speech, labels = _render_utterances(spec, spec.utterances, frames, mask, "utterance")
    noise = make_noise(spec.noise, n, spec.noise_dbfs, np.random.default_rng(noise_seed))
    try:
        sounds = place_sounds(spec.sounds, n, sound_seed) if spec.sounds else None
    except ValueError as exc:
        raise ValueError(f"call {spec.name!r}: {exc}") from None
    audio = to_int16(speech + noise if sounds is None else speech + noise + sounds)
    agent = agent_labels = None
    if spec.callee_channel is not None:
        agent_speech, agent_labels = _render_utterances(spec, spec.agent, frames, None, "agent")
        agent_noise = make_noise(spec.noise, n, spec.noise_dbfs, np.random.default_rng(agent_seed))
        agent = to_int16(agent_speech + agent_noise)
    coding = CODINGS[spec.channel]
    entry: dict[str, Any] = {
        "file": spec.file,
        "situation": spec.situation,
        "channel": spec.channel,
        "sample_rate": coding.sample_rate,
        "encoding": coding.encoding,
    }
    if spec.callee_channel is not None:
        entry.update(channels=2, callee_channel=spec.callee_channel)
    entry["duration_s"] = _seconds(frames)
    entry["noise"] = {
        "type": spec.noise,
        "level_dbfs": None if spec.noise_dbfs is None else round(float(spec.noise_dbfs), 2),
    }
    if spec.dc_offset:
        entry["dc_offset"] = round(float(spec.dc_offset), 4)
    if spec.clipping:
        entry["clipping"] = True
    entry["speech"] = labels
    if spec.sounds:
        entry["sounds"] = sorted((s.label() for s in spec.sounds), key=lambda s: s["start_s"])
    if agent_labels is not None:
        entry["agent"] = agent_labels
    entry["expect"] = {
        "classification": EXPECTED_CLASSIFICATION[spec.situation],
        "first_speech_s": labels[0]["start_s"] if labels else None,
    }
    return RenderedCall(spec, audio, to_int16(speech), noise, entry, sounds, agent)


def _render_utterances(
    spec: CallSpec,
    utterances: tuple[Utterance, ...],
    frames: int,
    mask: np.ndarray | None,
    what: str,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One side's speech (float64, int16 units, `frames` 20 ms frames long) and its labelled
    segments; `mask` holds per-frame dropout gains. `what` names the utterances in errors."""
    speech = np.zeros(frames * FRAME_SAMPLES)
    labels: list[dict[str, Any]] = []
    speech_end = 0  # frame after the last labelled speech so far
    for index, utterance in sorted(enumerate(utterances), key=lambda p: p[1].start_s):
        where = f"call {spec.name!r} {what} {index}"
        phrase = load_phrase(utterance.phrase)
        try:
            if spec.clipping:
                audio = scale_unclipped(phrase.samples, utterance.level_dbfs)
            else:
                audio = scale_to_active_level(phrase.samples, utterance.level_dbfs)
        except ValueError as exc:
            raise ValueError(f"{where} ({utterance.phrase!r}): {exc}") from None
        first = round(utterance.start_s / FRAME_S)
        count = len(audio) // FRAME_SAMPLES
        if first + count > frames:
            raise ValueError(
                f"{where} ({utterance.phrase!r}, {count * FRAME_S:.2f} s) ends at "
                f"{(first + count) * FRAME_S:.2f} s, after the call's end at {frames * FRAME_S} s"
            )
        gains = np.ones(count) if mask is None else mask[first : first + count]
        audio = audio * np.repeat(gains, FRAME_SAMPLES)
        segments = _segments(audio)
        if segments and first + segments[0][0] < speech_end:
            raise ValueError(
                f"{where} starts its speech at {(first + segments[0][0]) * FRAME_S:.2f} s, "
                f"before the previous {what}'s speech ends"
            )
        texts = fragment_texts(phrase.text, segments)
        for (start, end), text in zip(segments, texts, strict=True):
            labels.append(
                {
                    "start_s": _seconds(first + start),
                    "end_s": _seconds(first + end),
                    "level_dbfs": round(float(utterance.level_dbfs), 2),
                    "text": text,
                    "source": phrase.source,
                }
            )
        if segments:
            speech_end = first + segments[-1][1]
        speech[first * FRAME_SAMPLES : (first + count) * FRAME_SAMPLES] += audio
    return speech, labels


def fragment_texts(text: str | None, segments: list[tuple[int, int]]) -> list[str | None]:
    """What each segment of one utterance says: its share of `text`'s words, in order.

    An utterance broken into several segments (pauses, a choppy line's dropouts) says its
    words once across them, not its whole text in each: word i of n goes to the segment in
    which the share (i + 0.5) / n of the utterance's speech time (frames in segments) falls,
    an estimate from the pace of speech. Words are the whitespace-separated ones of a text
    that has spaces, else its characters (Mandarin). A segment given no word gets ""; None
    (no transcription) stays None for every segment."""
    if text is None or len(segments) <= 1:
        return [text] * len(segments)
    spaced = any(ch.isspace() for ch in text.strip())
    words = text.split() if spaced else [ch for ch in text if not ch.isspace()]
    lengths = np.array([end - start for start, end in segments], dtype=float)
    bounds = np.cumsum(lengths) / lengths.sum()
    parts: list[list[str]] = [[] for _ in segments]
    for i, word in enumerate(words):
        at = int(np.searchsorted(bounds, (i + 0.5) / len(words)))
        parts[min(at, len(segments) - 1)].append(word)
    return [(" " if spaced else "").join(part) for part in parts]


def _segments(audio: np.ndarray) -> list[tuple[int, int]]:
    """Runs of active frames of `audio` as (first, end) frame pairs, end exclusive, with
    pauses shorter than MERGE_GAP_S merged into the surrounding segment."""
    active = active_frames(audio)
    if not active.any():
        return []
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    runs = list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
    merge = round(MERGE_GAP_S / FRAME_S)
    merged = [runs[0]]
    for start, end in runs[1:]:
        if start - merged[-1][1] < merge:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [(int(a), int(b)) for a, b in merged]


def _seconds(frames: int) -> float:
    return round(frames * FRAME_S, 3)


def _check_spec(spec: CallSpec) -> None:
    """Raise `ValueError` naming the call and the field when `spec` is unusable."""
    name = spec.name
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"call name must be letters, digits, _ - . (a file stem), got {name!r}")
    where = f"call {name!r}"
    if spec.situation not in SITUATIONS:
        raise ValueError(f"{where}: situation must be one of {', '.join(SITUATIONS)}")
    if spec.channel not in CODINGS:
        raise ValueError(f"{where}: channel must be one of {', '.join(CODINGS)}")
    if spec.noise not in NOISE_TYPES:
        raise ValueError(f"{where}: noise must be one of {', '.join(NOISE_TYPES)}")
    if (spec.noise == "none") != (spec.noise_dbfs is None):
        raise ValueError(f"{where}: noise_dbfs must be None exactly when noise is 'none'")
    if spec.noise_dbfs is not None and not -100.0 <= spec.noise_dbfs <= 0.0:
        raise ValueError(f"{where}: noise_dbfs must be in -100..0 dBFS, got {spec.noise_dbfs}")
    if not FRAME_S <= spec.duration_s <= MAX_DURATION_S:
        raise ValueError(
            f"{where}: duration_s must be in {FRAME_S}..{MAX_DURATION_S} s, got {spec.duration_s}"
        )
    if not isinstance(spec.seed, int) or isinstance(spec.seed, bool) or spec.seed < 0:
        raise ValueError(f"{where}: seed must be a non-negative integer, got {spec.seed!r}")
    if spec.situation in SPEECHLESS_SITUATIONS and spec.utterances:
        raise ValueError(f"{where}: a {spec.situation} call has no utterances")
    if spec.situation not in SPEECHLESS_SITUATIONS | {"noisy_line"} and not spec.utterances:
        raise ValueError(f"{where}: a {spec.situation} call needs at least one utterance")
    for what, utterances in (("utterance", spec.utterances), ("agent", spec.agent)):
        for index, utterance in enumerate(utterances):
            if utterance.start_s < 0:
                raise ValueError(f"{where} {what} {index}: start_s must be >= 0 s")
            if not -90.0 <= utterance.level_dbfs <= 0.0:
                raise ValueError(
                    f"{where} {what} {index}: level_dbfs must be in -90..0 dBFS, "
                    f"got {utterance.level_dbfs}"
                )
    for index, sound in enumerate(spec.sounds):
        problem = check_sound(sound)
        if problem:
            raise ValueError(f"{where} sound {index}: {problem}")
    if not -0.5 <= spec.dc_offset <= 0.5:
        raise ValueError(f"{where}: dc_offset must be in -0.5..0.5, got {spec.dc_offset}")
    if spec.callee_channel is not None and spec.callee_channel not in SIDES:
        raise ValueError(f"{where}: callee_channel must be left, right or None")
    if spec.agent and spec.callee_channel is None:
        raise ValueError(f"{where}: an agent side needs a stereo call (callee_channel)")

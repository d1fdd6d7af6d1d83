"""Stereo calls for `ivr audit` tests, built from real human speech placed at known times.

Each utterance is the longest stretch of speech the detectors find in one of the Debian
pocketsphinx recordings (so it is one turn with known edges), set to a chosen active level;
a call puts utterances on the agent's side (left) or the customer's (right) at chosen times
over a faint noise floor, written as 16 kHz PCM WAV or as 8 kHz mu-law or A-law WAV as call
recorders store them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf
from shared import HUMAN_WAVS, human_speech

RATE = 16000
FLOOR_DBFS = -70.0
"""The faint noise under both sides (dBFS)."""
TALK_DBFS = -26.0
"""The utterances' level unless told (dBFS: RMS over the clip, 0 dBFS = full-scale square)."""


@cache
def utterance(index: int) -> np.ndarray:
    """The longest speech segment of human recording `index`, as float samples (RMS 1)."""
    from ivr.audio.source import open_source
    from ivr.detect import analyze

    analysis = analyze(open_source(HUMAN_WAVS[index]))
    longest = max(analysis.segments, key=lambda s: s.end - s.start)
    clip = human_speech(index)[longest.start * 320 : longest.end * 320].astype(np.float64)
    return clip / np.sqrt(np.mean(clip**2))


def at_level(clip: np.ndarray, dbfs: float) -> np.ndarray:
    """`clip` (RMS 1) at `dbfs`."""
    return clip * 10 ** (dbfs / 20) * 32768


def faster(clip: np.ndarray, speed: float) -> np.ndarray:
    """`clip` spoken `speed` times faster, pitch kept (ivr.synth.audit_voices.time_compressed),
    at RMS 1."""
    from ivr.synth.audit_voices import time_compressed

    out = time_compressed(clip, speed)
    return out / np.sqrt(np.mean(out**2))


@dataclass(frozen=True)
class Said:
    """An utterance on one side: `side` agent or customer, from `start_s` (s)."""

    side: str
    start_s: float
    clip: np.ndarray

    @property
    def end_s(self) -> float:
        """When it ends (s)."""
        return self.start_s + self.clip.size / RATE


def say(side: str, start_s: float, index: int = 5, seconds: float | None = None,
        dbfs: float = TALK_DBFS) -> Said:  # fmt: skip
    """Utterance `index` (cut to `seconds` when given) on `side` at `start_s`."""
    clip = utterance(index)
    if seconds is not None:
        clip = clip[: round(seconds * RATE)]
    return Said(side, start_s, at_level(clip, dbfs))


def stereo(said: list[Said], duration_s: float, seed: int = 7) -> np.ndarray:
    """The call as (samples, 2) int16: the agent left, the customer right."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * RATE)
    audio = rng.normal(0, 10 ** (FLOOR_DBFS / 20) * 32768, (n, 2))
    for s in said:
        start = round(s.start_s * RATE)
        piece = s.clip[: max(0, n - start)]
        audio[start : start + piece.size, 0 if s.side == "agent" else 1] += piece
    return np.clip(np.rint(audio), -32768, 32767).astype(np.int16)


def write_call(folder: Path, name: str, said: list[Said], duration_s: float,
               codec: str = "pcm16") -> Path:  # fmt: skip
    """The call written as 16 kHz PCM WAV (`pcm16`), or 8 kHz G.711 WAV (`mulaw`, `alaw`) as
    call recorders store them."""
    audio = stereo(said, duration_s)
    path = folder / name
    if codec == "pcm16":
        sf.write(path, audio, RATE, subtype="PCM_16")
        return path
    from scipy.signal import resample_poly

    narrow = resample_poly(audio.astype(np.float64), 1, 2, axis=0)
    subtype = {"mulaw": "ULAW", "alaw": "ALAW"}[codec]
    sf.write(path, np.clip(narrow, -32768, 32767) / 32768, 8000, subtype=subtype)
    return path


def clean_turns() -> list[Said]:
    """A clean call's turns: the customer, the agent at 2.0 s, the customer's question, the
    agent's answer 0.6 s after it."""
    turns = [say("customer", 0.5, 0), say("agent", 2.0, 9), say("customer", 5.3, 6)]
    turns.append(say("agent", turns[-1].end_s + 0.6, 9))
    return turns


def write_clean(folder: Path, name: str = "clean.wav") -> Path:
    """The clean call (16 kHz PCM WAV), ending 3 s after the agent's answer."""
    turns = clean_turns()
    return write_call(folder, name, turns, turns[-1].end_s + 3.0)


def write_late(folder: Path, name: str = "late.wav") -> Path:
    """A late answer (8 kHz mu-law, 9 s): the customer's 喂, the agent's first words at 4.0 s."""
    late = [say("customer", 0.5, 0), say("agent", 4.0, 9)]
    return write_call(folder, name, late, 9.0, codec="mulaw")

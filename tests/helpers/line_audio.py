"""Helpers for tests of the line detectors (keys, tones): signals placed in whole samples, real
recordings of speech and music, and the front end run over them in blocks.

Real audio: Debian's pocketsphinx-testdata (human readers, 16 kHz), Asterisk's recorded prompts
(one speaker, 8 kHz) and its music on hold (asterisk-moh-opsound-wav, 8 kHz, synthesizers and
pianos: notes as pure as a tone).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.detect.frontend import Detectors
from ivr.events import KeyPressed, LineEvent, ToneHeard

ALLISON = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
TONE_PROMPTS = ("beep", "beeperr", "ascending-2tone", "descending-2tone")
"""Asterisk's prompts that are tones, not speech."""
MUSIC = sorted(Path("/usr/share/asterisk/moh").glob("*.wav"))
"""Asterisk's music on hold: five pieces of 1-4 minutes."""
SPEECH = sorted(Path("/usr/share/pocketsphinx/test/data").glob("*/*.wav")) + sorted(
    p for p in ALLISON.glob("*.wav") if p.stem not in TONE_PROMPTS
)
"""Real speech: pocketsphinx's readers and every top-level Asterisk prompt but its tones."""


def samples(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


def sine(freq_hz: float, count: int, dbfs: float) -> np.ndarray:
    """`count` samples of a sine whose RMS is `dbfs` (float64, int16 units)."""
    t = np.arange(count) / SAMPLE_RATE
    return 10 ** (dbfs / 20) * np.sqrt(2) * 32768 * np.sin(2 * np.pi * freq_hz * t)


def noise(count: int, dbfs: float, seed: int = 0) -> np.ndarray:
    """White noise whose RMS is `dbfs` (float64, int16 units)."""
    return np.random.default_rng(seed).standard_normal(count) * 10 ** (dbfs / 20) * 32768


def put(call: np.ndarray, piece: np.ndarray, at: int) -> np.ndarray:
    """`piece` added into `call` from sample `at` on (cut at the call's end); returns `call`."""
    piece = piece[: max(0, call.size - at)]
    call[at : at + piece.size] += piece
    return call


@functools.cache
def _recording(path: Path) -> np.ndarray:
    data, rate = sf.read(path, dtype="float64")
    if data.ndim > 1:
        data = data[:, 0]
    if rate != SAMPLE_RATE:
        data = soxr.resample(data, rate, SAMPLE_RATE)
    data.setflags(write=False)
    return data


def recording(path: Path, seconds: float | None = None) -> np.ndarray:
    """A real recording at 16 kHz (float64, int16 units), its first `seconds` if given."""
    data = _recording(path) * 32768
    return data if seconds is None else data[: samples(seconds)]


def frames(audio: np.ndarray) -> np.ndarray:
    """Audio (float, int16 units) clipped into whole (n, 320) int16 frames."""
    n = audio.size // FRAME_SAMPLES
    pcm = np.clip(np.rint(audio[: n * FRAME_SAMPLES]), -32768, 32767).astype(np.int16)
    return pcm.reshape(n, FRAME_SAMPLES)


def detect(audio: np.ndarray, block: int = 7) -> tuple[list[LineEvent], np.ndarray, np.ndarray]:
    """The front end over `audio` in blocks of `block` frames: (line events, per-frame tone
    flags, per-frame voiced flags as the speech segmenter saw them)."""
    pcm = frames(audio)
    detectors = Detectors()
    events: list[LineEvent] = []
    tone, voiced = [], []
    for i in range(0, pcm.shape[0], block):
        result = detectors.process(pcm[i : i + block])
        events += result.line_events
        tone.append(result.tone)
        voiced.append(result.voiced)
    return events, np.concatenate(tone), np.concatenate(voiced)


def tones(audio: np.ndarray, block: int = 7) -> list[ToneHeard]:
    return [e for e in detect(audio, block)[0] if isinstance(e, ToneHeard)]


def keys(audio: np.ndarray, block: int = 7) -> list[KeyPressed]:
    return [e for e in detect(audio, block)[0] if isinstance(e, KeyPressed)]

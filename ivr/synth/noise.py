"""Line noise: white, pink, babble (overlapped talkers), office babble and mains hum, seeded.

Generators return float64 samples in int16 units at 16 kHz; `make_noise` scales the result so
that its RMS over the whole recording is the requested level (dBFS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.audio.format import SAMPLE_RATE
from ivr.corpus.manifest import NOISE_TYPES
from ivr.synth.levels import scale_to_active_level, scale_to_rms
from ivr.synth.recordings import ALLISON_LONG, ALSA_VOICE, JUNE_LONG
from ivr.synth.speech import BABBLE_HUMAN_PHRASES, BABBLE_TTS_PHRASES, load_phrase

BABBLE_TALKERS = 6
"""Talkers overlapped in babble: half human recordings, half synthesized Mandarin."""

BABBLE_TALKER_LEVEL_DBFS = -20.0
"""Active speech level of each babble talker before the mix is scaled (dBFS), +-3 dB."""

OFFICE_TALKERS = (
    (
        "human:librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
        "human:librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
        "human:librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
        "human:librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
        "human:librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
    ),
    ALLISON_LONG,
    JUNE_LONG,
    (
        "human:cards/001.wav",
        "human:cards/002.wav",
        "human:cards/003.wav",
        "human:cards/004.wav",
        "human:cards/005.wav",
    ),
    ("human:goforward.raw", "human:numbers.raw", "human:something.raw"),
    ALSA_VOICE,
)
"""The voices of office babble, one pool of real recordings per talker: the librivox reader,
Allison Smith and June Wallack (Asterisk prompts), the pocketsphinx cards speaker, the
pocketsphinx raw-file speakers, and the alsa-utils speaker-test voice."""

MAINS_HZ = 50.0
"""Mains frequency of the hum (Hz)."""

HUM_HARMONICS = {1: 1.0, 2: 0.35, 3: 0.5, 5: 0.25, 7: 0.12}
"""Hum harmonic numbers and their amplitudes relative to the fundamental."""


@dataclass(frozen=True)
class BabbleTalker:
    """One talker of a babble: phrases spoken one after another, looped from a seeded offset."""

    source: str
    """`tts` or `human`."""
    phrases: tuple[str, ...]
    """Phrases in the order spoken (the loop may start inside the first)."""
    samples: np.ndarray
    """The talker's track (int16 units, float64), as long as the babble."""


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of Gaussian white noise at unit RMS."""
    return rng.standard_normal(n)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of pink (1/f power) noise, shaped in the FFT domain, at unit RMS.

    `n` white samples are shaped over a transform of fast_fft_length(n) (zero-padded): an
    FFT of a length with a large prime factor, as a call's length often has, takes 10-20 times
    as long."""
    if n == 0:
        return np.zeros(0)
    size = fast_fft_length(n)
    spectrum = np.fft.rfft(rng.standard_normal(n), size)
    freqs = np.fft.rfftfreq(size, d=1.0 / SAMPLE_RATE)
    shaping = np.zeros_like(freqs)
    audible = freqs >= 20.0
    shaping[audible] = 1.0 / np.sqrt(freqs[audible])
    pink = np.fft.irfft(spectrum * shaping, size)[:n]
    return pink / np.sqrt(np.mean(pink**2))


def fast_fft_length(n: int) -> int:
    """The smallest length at least `n` (samples) with no prime factor over 5."""
    best = 1 << max(0, (n - 1).bit_length())
    fives = 1
    while fives < best:
        length = fives
        while length < best:
            size = length
            while size < n:
                size *= 2
            best = min(best, size)
            length *= 3
        fives *= 5
    return best


def hum(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of mains hum: 50 Hz and a few harmonics with seeded phases, unit RMS.

    A slow (0.2-1 Hz) 10 % amplitude wobble keeps it from being a perfectly steady tone.
    """
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    for harmonic, amplitude in HUM_HARMONICS.items():
        phase = rng.uniform(0.0, 2.0 * np.pi)
        out += amplitude * np.sin(2.0 * np.pi * MAINS_HZ * harmonic * t + phase)
    wobble = 1.0 + 0.1 * np.sin(2.0 * np.pi * rng.uniform(0.2, 1.0) * t + rng.uniform(0, 6.3))
    out *= wobble
    return out / np.sqrt(np.mean(out**2)) if n else out


def _talker_track(order: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of one talker saying `order` at BABBLE_TALKER_LEVEL_DBFS +-3 dB with
    50-400 ms pauses, looped from a seeded offset (float64, int16 units)."""
    level = BABBLE_TALKER_LEVEL_DBFS + rng.uniform(-3.0, 3.0)
    pieces = []
    for name in order:
        phrase = load_phrase(name)
        level_here = min(level, phrase.max_level_dbfs - 0.5)
        pieces.append(scale_to_active_level(phrase.samples, level_here).astype(np.float64))
        pieces.append(np.zeros(int(rng.integers(50, 401)) * SAMPLE_RATE // 1000))
    cycle = np.concatenate(pieces)
    offset = int(rng.integers(0, len(cycle)))
    return np.tile(cycle, (offset + n) // len(cycle) + 1)[offset : offset + n]


def babble_talkers(
    n: int, rng: np.random.Generator, talkers: int = BABBLE_TALKERS
) -> list[BabbleTalker]:
    """`talkers` independent speech tracks of `n` samples, alternating human and synthesized.

    Each talker speaks a seeded shuffle of its pool with 50-400 ms pauses, looped, starting at a
    seeded offset, at BABBLE_TALKER_LEVEL_DBFS +-3 dB.
    """
    out = []
    for index in range(talkers):
        source = "human" if index % 2 == 0 else "tts"
        pool = BABBLE_HUMAN_PHRASES if source == "human" else BABBLE_TTS_PHRASES
        order = [pool[i] for i in rng.permutation(len(pool))]
        out.append(BabbleTalker(source, tuple(order), _talker_track(order, n, rng)))
    return out


def office_talkers(n: int, rng: np.random.Generator) -> list[BabbleTalker]:
    """One track of `n` samples per OFFICE_TALKERS voice, made as in `babble_talkers`: a
    seeded shuffle of its recordings with 50-400 ms pauses, looped from a seeded offset, at
    BABBLE_TALKER_LEVEL_DBFS +-3 dB."""
    out = []
    for pool in OFFICE_TALKERS:
        order = [pool[i] for i in rng.permutation(len(pool))]
        out.append(BabbleTalker("human", tuple(order), _talker_track(order, n, rng)))
    return out


def office(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of distant office babble: the sum of `office_talkers`, at unit RMS."""
    if n == 0:
        return np.zeros(0)
    mix = np.sum([t.samples for t in office_talkers(n, rng)], axis=0)
    return mix / np.sqrt(np.mean(mix**2))


def babble(n: int, rng: np.random.Generator, talkers: int = BABBLE_TALKERS) -> np.ndarray:
    """`n` samples of babble: the sum of `babble_talkers`, at unit RMS."""
    mix = np.sum([t.samples for t in babble_talkers(n, rng, talkers)], axis=0)
    return mix / np.sqrt(np.mean(mix**2))


_GENERATORS = {
    "white": white_noise,
    "pink": pink_noise,
    "babble": babble,
    "hum": hum,
    "office": office,
}


def make_noise(kind: str, n: int, level_dbfs: float | None, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of noise `kind` whose RMS over all of them is `level_dbfs` (dBFS).

    `none` (with level None) gives zeros. Raises `ValueError` on an unknown kind.
    """
    if kind == "none":
        return np.zeros(n)
    if kind not in _GENERATORS:
        raise ValueError(f"noise must be one of {', '.join(NOISE_TYPES)}, got {kind!r}")
    if level_dbfs is None:
        raise ValueError(f"noise {kind!r} needs a level (dBFS)")
    return scale_to_rms(_GENERATORS[kind](n, rng), level_dbfs)

"""Non-speech sounds on a line: handset clicks, single-sample pops, knocks, and breathing (and
the line's own signals, rendered by ivr.synth.line_signals).

A `Sound` is placed at a time with a length and a level; `render_sound` makes its samples
(float64, int16 units, 16 kHz) from a seeded generator, and `place_sounds` adds a call's
sounds to a track. Levels follow ivr.synth.levels (0 dBFS is the RMS of a full-scale square
wave, i.e. a sample of 32768): a click, pop or knock is given by its peak sample, so a -6 dBFS
click peaks at half of full scale; a breath by its RMS over its length.

What they are modelled on:

- click: the tick of a handset's hook switch, a button or a cable: a burst of white noise
  that decays exponentially (time constant a quarter of its length), 5-40 ms long.
- pop: a single-sample spike (a bad contact, a digital glitch) followed by the coupling
  capacitor's recovery: a tail of the opposite sign at a tenth of the peak that decays with a
  1 ms time constant, 5-10 ms long in all.
- knock: a finger or a ring tapping the handset: a damped resonance of the handset's body
  (120-400 Hz, decaying over a quarter of its length) with a 2 ms noise transient at its
  start, 15-40 ms long.
- breath: breathing close to the microphone: band-limited noise (200-2500 Hz) under a
  raised-cosine envelope, one inhalation or exhalation of 0.4-1.2 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.audio.format import FULL_SCALE, SAMPLE_RATE
from ivr.corpus.situations import LINE_SOUND_KINDS, SOUND_KINDS
from ivr.synth.channel import band_pass
from ivr.synth.levels import scale_to_rms
from ivr.synth.line_signals import DURATION_MS as LINE_DURATION_MS
from ivr.synth.line_signals import check_line_key, render_line_sound

IMPULSE_KINDS = ("click", "pop", "knock")
"""Sounds given by their peak sample level."""

DURATION_MS = {"click": (5.0, 40.0), "pop": (5.0, 10.0), "knock": (15.0, 40.0)}
"""Length range of each impulse kind (ms)."""

BREATH_DURATION_S = (0.4, 1.2)
"""Length of one inhalation or exhalation (s)."""

BREATH_BAND_HZ = (200.0, 2500.0)
"""Band of breath noise close to a handset microphone (Hz)."""

KNOCK_RESONANCE_HZ = (120.0, 400.0)
"""Resonance of a handset's body when it is knocked (Hz)."""

POP_TAIL = 0.1
"""Height of a pop's recovery tail relative to its spike."""

POP_TAIL_MS = 1.0
"""Time constant of a pop's recovery tail (ms)."""


@dataclass(frozen=True)
class Sound:
    """A non-speech sound on the line."""

    start_s: float
    """When it starts (s); rendered from the nearest sample."""
    kind: str
    """click | pop | knock | breath."""
    duration_ms: float
    """Its length (ms): 5-40 for a click, 5-10 for a pop, 15-40 for a knock, 400-1200 for a
    breath."""
    level_dbfs: float
    """Peak sample level (dBFS) of a click, pop or knock; RMS over a breath, or over a line
    signal's on periods (dBFS)."""
    key: str | None = None
    """The telephone key of a dtmf sound (0-9, *, #, A-D)."""

    @property
    def samples(self) -> int:
        """Its length in 16 kHz samples (at least one)."""
        return max(1, round(self.duration_ms * SAMPLE_RATE / 1000))

    @property
    def first(self) -> int:
        """Its first sample."""
        return round(self.start_s * SAMPLE_RATE)

    def label(self) -> dict:
        """The sound's manifest entry (times in s, exact to the sample)."""
        entry = {
            "start_s": round(self.first / SAMPLE_RATE, 7),
            "end_s": round((self.first + self.samples) / SAMPLE_RATE, 7),
            "kind": self.kind,
            "level_dbfs": round(float(self.level_dbfs), 2),
        }
        if self.key is not None:
            entry["key"] = self.key
        return entry


def check_sound(sound: Sound) -> str | None:
    """What is wrong with `sound` (a message), or None."""
    if sound.kind not in SOUND_KINDS:
        return f"kind must be one of {', '.join(SOUND_KINDS)}, got {sound.kind!r}"
    if sound.start_s < 0:
        return "start_s must be >= 0 s"
    if not -90.0 <= sound.level_dbfs <= 0.0:
        return f"level_dbfs must be in -90..0 dBFS, got {sound.level_dbfs}"
    line = sound.kind in LINE_SOUND_KINDS
    if sound.key is not None and not line:
        return "key is given only for a dtmf sound"
    if line:
        low, high = LINE_DURATION_MS[sound.kind]
    elif sound.kind in DURATION_MS:
        low, high = DURATION_MS[sound.kind]
    else:
        low, high = (1000 * s for s in BREATH_DURATION_S)
    if not low - 1e-9 <= sound.duration_ms <= high + 1e-9:
        return f"a {sound.kind} lasts {low:g}-{high:g} ms, got {sound.duration_ms}"
    return check_line_key(sound.kind, sound.key) if line else None


def render_sound(sound: Sound, rng: np.random.Generator) -> np.ndarray:
    """The samples of `sound` (float64, int16 units), `sound.samples` long."""
    n = sound.samples
    if sound.kind in LINE_SOUND_KINDS:
        return render_line_sound(sound.kind, n, sound.level_dbfs, sound.key)
    t = np.arange(n) / SAMPLE_RATE
    if sound.kind == "breath":
        noise = band_pass(rng.standard_normal(n), band_hz=BREATH_BAND_HZ)
        envelope = np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 2
        return scale_to_rms(noise * envelope * FULL_SCALE, sound.level_dbfs)
    tau = sound.duration_ms / 4000.0
    if sound.kind == "click":
        shape = rng.standard_normal(n) * np.exp(-t / tau)
    elif sound.kind == "pop":
        shape = np.zeros(n)
        shape[1:] = -POP_TAIL * np.exp(-t[1:] / (POP_TAIL_MS / 1000.0))
        shape[0] = 1.0 if rng.random() < 0.5 else -1.0
        shape[1:] *= shape[0]
    else:  # knock
        freq = rng.uniform(*KNOCK_RESONANCE_HZ)
        shape = np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)) * np.exp(-t / tau)
        onset = min(n, SAMPLE_RATE // 500)
        shape[:onset] += 0.5 * rng.standard_normal(onset)
    fade = min(n, SAMPLE_RATE // 1000)  # 1 ms to zero at the end
    shape[n - fade :] *= np.linspace(1.0, 0.0, fade)
    peak = float(np.max(np.abs(shape)))
    return shape * (FULL_SCALE * 10.0 ** (sound.level_dbfs / 20.0) / peak)


def place_sounds(sounds: tuple[Sound, ...], n: int, seeds: np.random.SeedSequence) -> np.ndarray:
    """A track of `n` samples holding `sounds`, each rendered from its own child seed.

    Raises `ValueError` when a sound runs past the end of the track.
    """
    track = np.zeros(n)
    for index, (sound, seed) in enumerate(zip(sounds, seeds.spawn(len(sounds)), strict=True)):
        first = sound.first
        if first + sound.samples > n:
            raise ValueError(f"sound {index} ({sound.kind}) ends after the call's end")
        track[first : first + sound.samples] += render_sound(sound, np.random.default_rng(seed))
    return track


def impulse_train(
    rng: np.random.Generator,
    start_s: float,
    end_s: float,
    interval_s: tuple[float, float],
    level_dbfs: tuple[float, float],
    kinds: tuple[str, ...] = IMPULSE_KINDS,
) -> tuple[Sound, ...]:
    """Impulses from `start_s` to `end_s` (s), one every `interval_s` (s, uniform), each of a
    kind drawn from `kinds`, a length drawn from its DURATION_MS range and a peak level drawn
    from `level_dbfs` (dBFS), all rounded (1 ms, 0.1 dB)."""
    out = []
    t = start_s + float(rng.uniform(*interval_s))
    while t < end_s:
        kind = kinds[int(rng.integers(len(kinds)))]
        duration = round(float(rng.uniform(*DURATION_MS[kind])))
        level = round(float(rng.uniform(*level_dbfs)), 1)
        out.append(Sound(round(t, 3), kind, float(duration), level))
        t += float(rng.uniform(*interval_s))
    return tuple(out)


def breathing(
    rng: np.random.Generator,
    start_s: float,
    end_s: float,
    period_s: tuple[float, float],
    level_dbfs: tuple[float, float],
) -> tuple[Sound, ...]:
    """Breaths from `start_s` to `end_s` (s): each cycle of `period_s` (s, uniform) holds an
    inhalation and, 0.1-0.5 s after it, an exhalation (lengths from BREATH_DURATION_S), each at
    an RMS level drawn from `level_dbfs` (dBFS)."""
    out = []
    t = start_s + float(rng.uniform(0.0, period_s[0]))
    while True:
        cycle = float(rng.uniform(*period_s))
        inhale = round(float(rng.uniform(*BREATH_DURATION_S)), 3)
        gap = float(rng.uniform(0.1, 0.5))
        exhale = round(float(rng.uniform(*BREATH_DURATION_S)), 3)
        if t + inhale + gap + exhale >= end_s:
            return tuple(out)
        for at, length in ((t, inhale), (t + inhale + gap, exhale)):
            level = round(float(rng.uniform(*level_dbfs)), 1)
            out.append(Sound(round(at, 3), "breath", round(length * 1000.0, 3), level))
        t += max(cycle, inhale + gap + exhale + 0.2)

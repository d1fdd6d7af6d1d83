"""Sounds and line effects of the field corpus (ivr.synth.field), as they are in the world.

- Recorded sounds that are not speech: the freedesktop sound theme's notification chimes and
  ring tones (Debian's sound-theme-freedesktop, `/usr/share/sounds/freedesktop/stereo/*.oga`,
  Ogg Vorbis at 22-96 kHz) and Asterisk's music on hold (asterisk-moh-opsound-wav,
  `/usr/share/asterisk/moh/*.wav`), read, mixed to mono and resampled to 16 kHz.
- Static: bursts of Gaussian white noise with 5 ms raised-cosine edges.
- A handset click: 20 ms of white noise decaying exponentially (time constant 5 ms).
- Room reverberation: an impulse response of a direct path and exponentially decaying
  Gaussian noise (the decay reaches -60 dB at RT60), at a given direct-to-reverberant ratio.
- Mains hum: 50 Hz and its harmonics 100, 150, 200 and 250 Hz with seeded phases.
- The telephone line: a causal 4th-order Butterworth band-pass 300-3400 Hz and a causal
  8th-order Butterworth anti-alias low-pass at 3600 Hz (recursive filters run forward, as an
  analog front end and a codec's filter do: no pre-ringing), then every other sample (8 kHz);
  GSM 06.10 full rate through sox.
- Lost packets: whole 20 ms frames of the file set to exact zeros (a decoder without packet
  loss concealment plays nothing for a lost packet).

`$IVR_FREEDESKTOP_SOUNDS_DIR` and `$IVR_MOH_DIR` override the directories.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ivr.audio.format import FRAME_S, SAMPLE_RATE
from ivr.detect.sections import SectionFilter
from ivr.synth.speech import RecordingsMissingError

FREEDESKTOP_DIR = Path("/usr/share/sounds/freedesktop/stereo")
"""Where sound-theme-freedesktop installs its sounds."""

MOH_DIR = Path("/usr/share/asterisk/moh")
"""Where asterisk-moh-opsound-wav installs its music (8 kHz mono WAV)."""

LINE_RATE = 8000
"""Sample rate of the telephone line (Hz)."""

LINE_BAND_HZ = (300.0, 3400.0)
"""Pass band of the line's causal Butterworth band-pass (Hz, -3 dB edges)."""

LINE_BAND_ORDER = 4
"""Order of the line's band-pass (scipy.signal.butter's N: 24 dB/octave at each edge)."""

ANTI_ALIAS_HZ = 3600.0
"""-3 dB edge of the causal anti-alias low-pass before taking every other sample (Hz)."""

ANTI_ALIAS_ORDER = 8
"""Order of the anti-alias Butterworth low-pass (48 dB/octave)."""

CLICK_MS = 20.0
"""Length of a handset click (ms)."""

CLICK_DECAY_MS = 5.0
"""Time constant of a click's exponential decay (ms)."""

STATIC_EDGE_MS = 5.0
"""Raised-cosine on and off ramps of a static burst (ms)."""

HUM_HARMONICS = {1: 1.0, 2: 0.5, 3: 0.7, 4: 0.3, 5: 0.4}
"""Mains hum: harmonic number of 50 Hz to its amplitude relative to the fundamental (a
rectifier's and a transformer's odd harmonics strongest after the fundamental)."""

MAINS_HZ = 50.0
"""Mains frequency (Hz): China and Europe."""

REVERB_ONSET_MS = 3.0
"""The reverberant tail starts this long after the direct path (ms)."""

BAND_SOS = np.array(
    [
        (
            0.04213264620447594,
            0.08426529240895188,
            0.04213264620447594,
            1.0,
            -0.39112790241252204,
            0.09087590988960496,
        ),
        (1.0, 2.0, 1.0, 1.0, -0.3770506584528211, 0.5109041566523097),
        (1.0, -2.0, 1.0, 1.0, -1.769041649621499, 0.7853120861143953),
        (1.0, -2.0, 1.0, 1.0, -1.9093502950980377, 0.9231429208679337),
    ]
)
"""The line's band-pass: scipy.signal.butter(LINE_BAND_ORDER, LINE_BAND_HZ, "bandpass", 16 kHz)
in second-order sections, written out (scipy.signal takes 0.6-0.9 s to import;
tests/unit/synth/test_field_filters.py designs it again and compares)."""

ANTI_ALIAS_SOS = np.array(
    [
        (
            0.0047786506212785145,
            0.009557301242557029,
            0.0047786506212785145,
            1.0,
            -0.15892076563243493,
            0.015893560230250924,
        ),
        (1.0, 2.0, 1.0, 1.0, -0.17178963772714467, 0.09815722310914547),
        (1.0, 2.0, 1.0, 1.0, -0.20201641427904782, 0.2913804782539095),
        (1.0, 2.0, 1.0, 1.0, -0.2623224310114276, 0.6768838691906219),
    ]
)
"""The anti-alias low-pass: scipy.signal.butter(ANTI_ALIAS_ORDER, ANTI_ALIAS_HZ, "lowpass",
16 kHz) in second-order sections, written out likewise."""


def sound_dir(default: Path, env: str) -> Path:
    return Path(os.environ.get(env) or default)


@functools.lru_cache(maxsize=64)
def load_sound(kind: str, name: str) -> np.ndarray:
    """A recorded non-speech sound at 16 kHz mono, float64 in [-1, 1): `kind` freedesktop
    (`bell.oga`) or moh (`macroform-cold_day.wav`). RecordingsMissingError if not installed."""
    if kind == "freedesktop":
        root, package = (
            sound_dir(FREEDESKTOP_DIR, "IVR_FREEDESKTOP_SOUNDS_DIR"),
            "sound-theme-freedesktop",
        )
    elif kind == "moh":
        root, package = sound_dir(MOH_DIR, "IVR_MOH_DIR"), "asterisk-moh-opsound-wav"
    else:
        raise ValueError(f"sound kind must be freedesktop or moh, got {kind!r}")
    path = root / name
    if not path.is_file():
        raise RecordingsMissingError(
            f"{path}: not found; install it with `apt-get install {package}`"
        )
    data, rate = sf.read(path, dtype="float64", always_2d=True)
    mono = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ")
    mono = mono - mono.mean()
    out = np.asarray(mono, dtype=np.float64)
    out.flags.writeable = False
    return out


def active_rms(x: np.ndarray, floor_db: float = 40.0) -> float:
    """RMS over the 20 ms frames within `floor_db` of the loudest (the sound's active part)."""
    n = len(x) // 320 * 320
    if n == 0:
        return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
    power = np.mean(x[:n].reshape(-1, 320) ** 2, axis=1)
    keep = power >= power.max() * 10 ** (-floor_db / 10)
    return float(np.sqrt(np.mean(power[keep])))


def to_level(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    """`x` scaled so its active RMS is `level_dbfs` (dBFS; 0 dBFS = RMS of a full-scale square
    wave), in int16 units."""
    rms = active_rms(x)
    return x * (32768.0 * 10 ** (level_dbfs / 20) / rms) if rms > 0 else x * 0.0


def click(rng: np.random.Generator) -> np.ndarray:
    """A CLICK_MS handset click: white noise under an exponential decay, peak 1."""
    n = round(CLICK_MS * SAMPLE_RATE / 1000)
    t = np.arange(n) / SAMPLE_RATE
    x = rng.standard_normal(n) * np.exp(-t / (CLICK_DECAY_MS / 1000))
    return x / np.abs(x).max()


def static_burst(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of white noise with STATIC_EDGE_MS raised-cosine edges, unit RMS inside."""
    x = rng.standard_normal(n)
    edge = min(n // 2, round(STATIC_EDGE_MS * SAMPLE_RATE / 1000))
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / max(edge, 1))
    x[:edge] *= ramp
    x[n - edge :] *= ramp[::-1]
    return x


def room_response(rt60_s: float, drr_db: float, rng: np.random.Generator) -> np.ndarray:
    """A room's impulse response at 16 kHz: 1 (the direct path), then from REVERB_ONSET_MS on
    Gaussian noise decaying by 60 dB over `rt60_s`, scaled so that the direct path's energy is
    `drr_db` above the tail's."""
    n = round(rt60_s * SAMPLE_RATE)
    onset = round(REVERB_ONSET_MS * SAMPLE_RATE / 1000)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-3.0 * np.log(10.0) * t / rt60_s)
    tail[:onset] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return tail


def reverberate(x: np.ndarray, response: np.ndarray) -> np.ndarray:
    """`x` through `response`, cut to the length of `x` (scipy.signal.fftconvolve's arithmetic:
    real transforms of scipy.fft's next fast length)."""
    from scipy import fft

    if len(x) <= 1 or len(response) == 1:  # fftconvolve multiplies then
        return (x * response)[: len(x)]
    full = len(x) + len(response) - 1
    size = fft.next_fast_len(full, True)
    product = fft.rfftn(x, [size], axes=[0]) * fft.rfftn(response, [size], axes=[0])
    return fft.irfftn(product, [size], axes=[0])[: len(x)].copy()


def mains_hum(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of MAINS_HZ hum with HUM_HARMONICS at seeded phases, unit RMS."""
    t = np.arange(n) / SAMPLE_RATE
    x = np.zeros(n)
    for harmonic, amplitude in HUM_HARMONICS.items():
        x += amplitude * np.sin(2 * np.pi * MAINS_HZ * harmonic * t + rng.uniform(0, 2 * np.pi))
    return x / np.sqrt(np.mean(x**2)) if n else x


def telephone_line(x: np.ndarray) -> np.ndarray:
    """16 kHz audio through the causal line filters, at LINE_RATE (float64)."""
    band = SectionFilter(BAND_SOS, np.float64).filter(np.asarray(x, dtype=np.float64))
    return SectionFilter(ANTI_ALIAS_SOS, np.float64).filter(band)[::2]


def gsm_round_trip(samples: np.ndarray) -> np.ndarray:
    """8 kHz int16 `samples` coded as GSM 06.10 full rate and decoded again with sox."""
    sox = shutil.which("sox")
    if sox is None:
        raise RecordingsMissingError("sox not found; install it with `apt-get install sox`")
    with tempfile.TemporaryDirectory() as tmp:
        plain, coded, back = (Path(tmp) / f for f in ("in.wav", "coded.gsm", "out.wav"))
        sf.write(plain, samples, LINE_RATE, subtype="PCM_16")
        for args in ([plain, "-r", "8000", "-c", "1", coded], [coded, "-b", "16", back]):
            subprocess.run([sox, "-D", *map(str, args)], check=True, capture_output=True)
        decoded, _ = sf.read(back, dtype="int16")
    out = np.zeros(len(samples), dtype=np.int16)
    out[: min(len(out), len(decoded))] = decoded[: len(out)]
    return out


def burst_erasures(frames: int, rng: np.random.Generator, burst_ms, kept_ms) -> np.ndarray:
    """Per-frame booleans (True: erased) for `frames` 20 ms frames: kept for `kept_ms`, erased
    for `burst_ms` (inclusive ranges, ms, whole frames), repeatedly, from a kept stretch."""
    erased = np.zeros(frames, dtype=bool)
    step = round(FRAME_S * 1000)
    kept = [ms // step for ms in kept_ms]
    burst = [ms // step for ms in burst_ms]
    position = int(rng.integers(kept[0], kept[1] + 1))
    while position < frames:
        length = int(rng.integers(burst[0], burst[1] + 1))
        erased[position : position + length] = True
        position += length + int(rng.integers(kept[0], kept[1] + 1))
    return erased


def isolated_erasures(frames: int, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Per-frame booleans (True: erased): each frame lost with probability `rate`, a loss next
    to an earlier one dropped, so every loss is a single 20 ms frame."""
    erased = rng.random(frames) < rate
    for k in range(1, frames):
        if erased[k] and erased[k - 1]:
            erased[k] = False
    return erased

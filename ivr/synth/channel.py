"""Line impairments and channel coding: dropouts, clean 16 kHz PCM, 8 kHz mu-law and A-law.

The clean channel writes the 16 kHz int16 call as PCM_16 WAV. The telephone channels band-pass
it to 300-3400 Hz in the FFT domain (raised-cosine skirts to zero at 200 Hz and 3600 Hz),
resample to 8 kHz with soxr and write G.711 WAV: mu-law (`telephone`, as in North America and
Japan) or A-law (`telephone_alaw`, as in China and Europe).

The recorder comes last: it may add a DC offset (a cheap sound card's), after the line's band
limit, and clips at full scale. A stereo call is coded side by side, each side the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ivr.audio.format import FRAME_MS, FULL_SCALE, SAMPLE_RATE
from ivr.corpus.manifest import CHANNEL_CODING
from ivr.synth.levels import to_int16

TELEPHONE_RATE = CHANNEL_CODING["telephone"][0]
"""Sample rate of telephone files (Hz)."""

TELEPHONE_BAND_HZ = (300.0, 3400.0)
"""Telephone pass band (Hz)."""

TELEPHONE_SKIRT_HZ = 100.0
"""Width of the raised-cosine skirt outside each band edge (Hz); beyond it the gain is zero."""

DROPOUT_ON_MS = (300, 600)
"""Speech kept between dropouts (ms, inclusive range, whole 20 ms frames)."""

DROPOUT_GAP_MS = (100, 300)
"""Length of each dropout (ms, inclusive range, whole 20 ms frames): packets lost in bursts,
the line back within 300 ms."""


@dataclass(frozen=True)
class Coding:
    """How a channel is stored in a WAV file."""

    sample_rate: int
    """Sample rate of the file (Hz)."""
    subtype: str
    """soundfile subtype."""
    encoding: str
    """Name in the manifest."""


_SUBTYPES = {"pcm_16": "PCM_16", "mulaw": "ULAW", "alaw": "ALAW"}

CODINGS = {
    name: Coding(rate, _SUBTYPES[encoding], encoding)
    for name, (rate, encoding) in CHANNEL_CODING.items()
}
"""Channel name to its file coding."""

CHANNELS = ("clean", "telephone")
"""The channels of the sample and random corpora (cycled through in this order)."""

TELEPHONE_CHANNELS = frozenset({"telephone", "telephone_alaw"})
"""Channels that band-limit the call and carry it at 8 kHz."""


def dropout_mask(frames: int, rng: np.random.Generator) -> np.ndarray:
    """Per-frame gains (1 kept, 0 dropped) for `frames` 20 ms frames.

    Speech is kept for DROPOUT_ON_MS, then zeroed for DROPOUT_GAP_MS, repeatedly, starting
    with a kept stretch at frame 0.
    """
    mask = np.ones(frames)
    on_range = [ms // FRAME_MS for ms in DROPOUT_ON_MS]
    gap_range = [ms // FRAME_MS for ms in DROPOUT_GAP_MS]
    position = int(rng.integers(on_range[0], on_range[1] + 1))
    while position < frames:
        gap = int(rng.integers(gap_range[0], gap_range[1] + 1))
        mask[position : position + gap] = 0.0
        position += gap + int(rng.integers(on_range[0], on_range[1] + 1))
    return mask


def band_pass(
    samples: np.ndarray,
    rate: int = SAMPLE_RATE,
    band_hz: tuple[float, float] = TELEPHONE_BAND_HZ,
    skirt_hz: float = TELEPHONE_SKIRT_HZ,
) -> np.ndarray:
    """Samples band-limited to `band_hz` (Hz) in the FFT domain, as float64.

    The gain is 1 inside the band and falls along a raised cosine to 0 at `skirt_hz` outside
    each edge. The signal is zero-padded so that the filter does not wrap around in time.
    """
    x = np.asarray(samples, dtype=np.float64)
    n = len(x)
    if n == 0:
        return x.copy()
    size = 1 << int(np.ceil(np.log2(n + rate // 10)))
    freqs = np.fft.rfftfreq(size, d=1.0 / rate)
    low, high = band_hz
    gain = np.ones_like(freqs)
    below = freqs < low
    gain[below] = _cosine_skirt((low - freqs[below]) / skirt_hz)
    above = freqs > high
    gain[above] = _cosine_skirt((freqs[above] - high) / skirt_hz)
    return np.fft.irfft(np.fft.rfft(x, size) * gain, size)[:n]


def _cosine_skirt(distance: np.ndarray) -> np.ndarray:
    """Raised-cosine gain from 1 at distance 0 to 0 at distance >= 1."""
    return np.where(distance >= 1.0, 0.0, 0.5 * (1.0 + np.cos(np.pi * np.minimum(distance, 1.0))))


def encode(audio: np.ndarray, channel: str, dc_offset: float = 0.0) -> np.ndarray:
    """The int16 samples stored for `channel`, at CODINGS[channel].sample_rate.

    `audio` is the call at 16 kHz (int16), mono (n,) or stereo (n, 2), each side coded alike.
    `dc_offset` (a fraction of full scale) is added after the band limit; the sum is clipped at
    full scale. Raises `ValueError` on an unknown channel.
    """
    audio = np.asarray(audio)
    if audio.ndim == 2:
        sides = [encode(audio[:, i], channel, dc_offset) for i in range(audio.shape[1])]
        return np.stack(sides, axis=1)
    dc = dc_offset * FULL_SCALE
    if channel == "clean":
        if not dc:
            return np.asarray(audio, dtype=np.int16)
        return to_int16(audio.astype(np.float64) + dc)
    if channel in TELEPHONE_CHANNELS:
        narrow = soxr.resample(band_pass(audio), SAMPLE_RATE, TELEPHONE_RATE, quality="HQ")
        return to_int16(narrow + dc) if dc else to_int16(narrow)
    raise ValueError(f"channel must be one of {', '.join(CODINGS)}, got {channel!r}")


def write_wav(path: str | Path, audio: np.ndarray, channel: str, dc_offset: float = 0.0) -> None:
    """Write the 16 kHz int16 call `audio` (mono, or stereo as (n, 2)) to `path` as a WAV file
    coded for `channel`, with the recorder's `dc_offset` (fraction of full scale)."""
    samples = encode(audio, channel, dc_offset)
    coding = CODINGS[channel]
    sf.write(path, samples, coding.sample_rate, subtype=coding.subtype, format="WAV")

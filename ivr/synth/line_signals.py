"""The line's own signals for synthesized calls: China's 450 Hz call-progress cadences, the
special information tone, a telephone key and an answering machine's beep.

Each is rendered exactly (no randomness) at a given RMS level (dBFS, as ivr.synth.levels: 0
dBFS is the RMS of a full-scale square wave) over its on periods: a cadence starts with an on
period and is cut at the sound's end; a key's two tones share the level equally (each 3 dB
below it). Figures: the cadences as ivr.detect.line_tones gives them (Asterisk's `[cn]`
indications), the special information tone 950/1400/1800 Hz for 330 ms each (ITU-T E.180),
DTMF's row and column frequencies (ITU-T Q.23), a 1 kHz beep.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FULL_SCALE, SAMPLE_RATE
from ivr.detect.keys import HIGH_HZ, KEYPAD, LOW_HZ

CADENCES_S = {"ringback": (1.0, 4.0), "busy": (0.35, 0.35), "congestion": (0.7, 0.7)}
"""China's 450 Hz tones: (on, off) periods (s)."""
CADENCE_HZ = 450.0
"""Their frequency (Hz)."""
SIT_HZ, SIT_SEGMENT_S = (950.0, 1400.0, 1800.0), 0.33
"""The special information tone's frequencies in order (Hz) and each one's length (s)."""
BEEP_HZ = 1000.0
"""An answering machine's beep (Hz)."""
DURATION_MS = {
    "ringback": (1000.0, 600_000.0),
    "busy": (350.0, 600_000.0),
    "congestion": (700.0, 600_000.0),
    "sit": (990.0, 990.0),
    "dtmf": (40.0, 2000.0),
    "beep": (60.0, 2000.0),
}
"""Length range of each signal (ms): a cadence at least one on period, the special information
tone its three segments, a key at least Q.24's 40 ms."""
KEYS = "".join(KEYPAD)
"""The sixteen telephone keys."""


def check_line_key(kind: str, key: str | None) -> str | None:
    """What is wrong with a line signal's key (a message), or None: a dtmf sound has one."""
    if (kind == "dtmf") != (key is not None):
        return "key is given exactly for a dtmf sound"
    if key is not None and (len(key) != 1 or key not in KEYS):
        return f"key must be one of {KEYS}, got {key!r}"
    return None


def _sine(freq_hz: float, n: int, dbfs: float) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return FULL_SCALE * 10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * freq_hz * t)


def render_line_sound(kind: str, n: int, level_dbfs: float, key: str | None) -> np.ndarray:
    """`n` samples of the signal `kind` (float64, int16 units) at `level_dbfs` RMS over its on
    periods."""
    out = np.zeros(n)
    if kind in CADENCES_S:
        on, off = (round(s * SAMPLE_RATE) for s in CADENCES_S[kind])
        burst = _sine(CADENCE_HZ, on, level_dbfs)
        for at in range(0, n, on + off):
            piece = burst[: n - at]
            out[at : at + piece.size] = piece
    elif kind == "sit":
        each = round(SIT_SEGMENT_S * SAMPLE_RATE)
        for i, hz in enumerate(SIT_HZ):
            piece = _sine(hz, each, level_dbfs)[: max(0, n - i * each)]
            out[i * each : i * each + piece.size] = piece
    elif kind == "dtmf":
        assert key is not None
        row = next(i for i, keys in enumerate(KEYPAD) if key in keys)
        column = KEYPAD[row].index(key)
        out = _sine(LOW_HZ[row], n, level_dbfs - 3.0103) + _sine(
            HIGH_HZ[column], n, level_dbfs - 3.0103
        )
    else:  # beep
        out = _sine(BEEP_HZ, n, level_dbfs)
    return out

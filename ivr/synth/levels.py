"""Signal levels in dBFS, where 0 dBFS is the RMS of a full-scale int16 square wave (32768).

A full-scale sine is -3.01 dBFS. Samples are numpy arrays in int16 units (int16 or float).
The active speech level follows the usual idea of ITU-T P.56 in a simple frame-based form:
20 ms frames, a frame is active when its power is within 35 dB of the loudest frame and at or
above -70 dBFS, and the level is the mean power of the active frames.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, SILENCE_DBFS
from ivr.detect.level import frame_powers as detector_frame_powers
from ivr.detect.level import power_to_dbfs, rms_dbfs

ACTIVE_RANGE_DB = 35.0
"""Frames more than this far below the loudest frame (dB) are not active speech."""

ACTIVE_FLOOR_DBFS = -70.0
"""Frames below this power (dBFS) are never active speech."""


def frame_powers(samples: np.ndarray) -> np.ndarray:
    """Mean power of each whole 20 ms frame, relative to full scale (linear, 1.0 = 0 dBFS).

    A trailing part-frame is ignored.
    """
    x = np.asarray(samples)
    count = len(x) // FRAME_SAMPLES
    return detector_frame_powers(x[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES))


def active_frames(samples: np.ndarray) -> np.ndarray:
    """Boolean mask of the active-speech 20 ms frames of `samples` (see module docstring)."""
    power = frame_powers(samples)
    if power.size == 0:
        return np.zeros(0, dtype=bool)
    level = power_to_dbfs(power)
    threshold = max(float(level.max()) - ACTIVE_RANGE_DB, ACTIVE_FLOOR_DBFS)
    return level >= threshold


def active_level_dbfs(samples: np.ndarray) -> float:
    """Active speech level (dBFS): mean power of the active 20 ms frames.

    Returns SILENCE_DBFS (-100 dBFS) when no frame is active.
    """
    power = frame_powers(samples)
    mask = active_frames(samples)
    if not mask.any():
        return SILENCE_DBFS
    return float(power_to_dbfs(power[mask].mean()))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Round float samples (int16 units) to int16, clipping at full scale."""
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


def scale_to_active_level(samples: np.ndarray, level_dbfs: float) -> np.ndarray:
    """int16 copy of `samples` whose active speech level is `level_dbfs` (dBFS).

    The gain is refined a few times because rounding, clipping at full scale and the fixed
    -70 dBFS floor of the active-frame rule all move the measured level; the result is within
    0.01 dB of the request unless clipping makes the level unreachable (`ValueError`).
    """
    x = np.asarray(samples, dtype=np.float64)
    if active_level_dbfs(x) <= SILENCE_DBFS:
        raise ValueError("cannot scale silence to an active speech level")
    gain_db = level_dbfs - active_level_dbfs(x)
    for _ in range(8):
        out = to_int16(x * 10.0 ** (gain_db / 20.0))
        error = level_dbfs - active_level_dbfs(out)
        if abs(error) <= 0.01:
            return out
        gain_db += error
    raise ValueError(
        f"cannot reach an active speech level of {level_dbfs:.2f} dBFS "
        f"(got {active_level_dbfs(out):.2f} dBFS)"
    )


def scale_to_rms(samples: np.ndarray, level_dbfs: float) -> np.ndarray:
    """Float copy of `samples` scaled so that their RMS level is `level_dbfs` (dBFS)."""
    x = np.asarray(samples, dtype=np.float64)
    current = rms_dbfs(x)
    if current <= SILENCE_DBFS:
        raise ValueError("cannot scale silence to an RMS level")
    return x * 10.0 ** ((level_dbfs - current) / 20.0)


def scale_unclipped(samples: np.ndarray, level_dbfs: float) -> np.ndarray:
    """Float copy of `samples` whose active speech level is `level_dbfs` (dBFS), not clipped.

    For a talker who overdrives the recorder: the level is the one the talker would have had;
    clipping at full scale comes later (`to_int16`). Within 0.01 dB of the request.
    """
    x = np.asarray(samples, dtype=np.float64)
    if active_level_dbfs(x) <= SILENCE_DBFS:
        raise ValueError("cannot scale silence to an active speech level")
    gain_db = 0.0
    for _ in range(8):
        out = x * 10.0 ** (gain_db / 20.0)
        error = level_dbfs - active_level_dbfs(out)
        if abs(error) <= 0.01:
            return out
        gain_db += error
    return out

"""Noise floor: a low percentile of frame levels over a sliding window, re-estimated every hop.

The quietest frames of the last few seconds are the line's own noise: on a clean line the
pauses between words set the floor, and noise that the VAD mistakes for speech (bug 5 in
ANCHORS: webrtcvad fires on noise even in mode 3) still raises it, because the estimate does not
depend on the VAD. The estimate is causal and does not depend on how the audio is chunked.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import SILENCE_DBFS, ms_to_frames
from ivr.call_settings import NoiseSettings
from ivr.detect.level import sliding_windows


class NoiseFloor:
    """Tracks the floor (dBFS) from per-frame levels (dBFS), block by block."""

    def __init__(self, settings: NoiseSettings) -> None:
        self.window = max(1, ms_to_frames(settings.window_ms))
        self.hop = max(1, ms_to_frames(settings.hop_ms))
        self.percentile = settings.percentile
        self._history = np.zeros(0, dtype=np.float32)
        self._seen = 0
        self.current = SILENCE_DBFS
        """The latest estimate (dBFS); SILENCE_DBFS until the first hop has been heard."""

    def _kth(self, length: int) -> int:
        return int(self.percentile / 100.0 * (length - 1))

    def update(self, levels_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed a block's frame levels (dBFS).

        Returns the floor in force at each frame of the block (dBFS) and the new estimates made
        in this block (one per hop boundary, dBFS).
        """
        n = levels_db.shape[0]
        base = self._seen
        ext = np.concatenate((self._history, levels_db.astype(np.float32)))
        offset = base - self._history.shape[0]  # absolute frame index of ext[0]
        first = (-(base + 1)) % self.hop  # block index of the first boundary
        if first >= n:  # no boundary in the block (a live call's short blocks, mostly)
            self._keep(ext, n)
            return np.full(n, self.current, dtype=np.float32), np.zeros(0, dtype=np.float32)
        bounds = np.arange(first, n, self.hop)  # block indices f with (base+f+1) % hop == 0
        estimates = np.empty(bounds.shape[0], dtype=np.float32)
        full = (base + bounds + 1) >= self.window
        if full.any():
            ends = base + bounds[full] - offset  # ext index of each boundary frame
            windows = sliding_windows(ext, self.window)[ends - self.window + 1]
            k = self._kth(self.window)
            estimates[full] = np.partition(windows, k, axis=1)[:, k]
        for i in np.flatnonzero(~full):  # the first seconds: windows still growing
            end = base + int(bounds[i]) - offset
            window = ext[: end + 1]
            k = self._kth(window.shape[0])
            estimates[i] = np.partition(window, k)[k]
        per_frame = np.empty(n, dtype=np.float32)
        values = np.concatenate(([self.current], estimates)).astype(np.float32)
        per_frame[:] = values[np.searchsorted(bounds, np.arange(n), side="right")]
        if estimates.size:
            self.current = float(estimates[-1])
        self._keep(ext, n)
        return per_frame, estimates

    def _keep(self, ext: np.ndarray, n: int) -> None:
        """Keep the last window - 1 levels of `ext` (the history and the block just fed) for
        the next block's windows, and count the block's `n` frames as seen."""
        self._seen += n
        keep = min(self.window - 1, ext.shape[0])
        self._history = ext[ext.shape[0] - keep :].copy() if keep else ext[:0].copy()


class FloorSummary:
    """Median and maximum of many floor estimates in constant memory (0.5 dB histogram)."""

    BIN_DB = 0.5
    """Histogram resolution (dB)."""

    def __init__(self) -> None:
        self._counts = np.zeros(int(-SILENCE_DBFS / self.BIN_DB) + 1, dtype=np.int64)
        self.maximum = SILENCE_DBFS
        """Highest estimate seen (dBFS)."""

    def add(self, estimates: np.ndarray) -> None:
        """Count floor estimates (dBFS)."""
        if not estimates.size:
            return
        clipped = np.clip(estimates, SILENCE_DBFS, 0.0)
        bins = np.rint((clipped - SILENCE_DBFS) / self.BIN_DB).astype(np.int64)
        np.add.at(self._counts, bins, 1)
        self.maximum = max(self.maximum, float(clipped.max()))

    @property
    def count(self) -> int:
        """Estimates counted."""
        return int(self._counts.sum())

    def median(self) -> float:
        """Median estimate (dBFS, to 0.5 dB); SILENCE_DBFS when none was counted."""
        total = self.count
        if not total:
            return SILENCE_DBFS
        index = int(np.searchsorted(np.cumsum(self._counts), (total + 1) // 2))
        return SILENCE_DBFS + index * self.BIN_DB

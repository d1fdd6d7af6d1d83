"""Cutting a stream of samples of any chunk size into whole 20 ms frames."""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_SAMPLES


class Framer:
    """Accumulates int16 samples and returns them as whole frames, shape (n, FRAME_SAMPLES).

    The result never depends on how the input was chunked; `flush` pads the last partial
    frame with zeros (digital silence) so that no sample is lost.
    """

    def __init__(self, frame_samples: int = FRAME_SAMPLES) -> None:
        if frame_samples <= 0:
            raise ValueError(f"frame_samples must be > 0, got {frame_samples}")
        self.frame_samples = frame_samples
        self._rest = np.zeros(0, dtype=np.int16)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add samples; return every frame now complete (possibly none)."""
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise TypeError(f"expected 1-D int16 samples, got {samples.dtype} {samples.shape}")
        data = np.concatenate((self._rest, samples)) if self._rest.size else samples
        whole = data.size // self.frame_samples * self.frame_samples
        self._rest = data[whole:].copy()
        return data[:whole].reshape(-1, self.frame_samples)

    def flush(self) -> np.ndarray:
        """Return the last partial frame padded with zeros (shape (0 or 1, FRAME_SAMPLES))."""
        if not self._rest.size:
            return np.zeros((0, self.frame_samples), dtype=np.int16)
        frame = np.zeros(self.frame_samples, dtype=np.int16)
        frame[: self._rest.size] = self._rest
        self._rest = np.zeros(0, dtype=np.int16)
        return frame.reshape(1, -1)

    @property
    def pending(self) -> int:
        """Samples held back waiting for a whole frame."""
        return int(self._rest.size)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1) to int16, rounded (half to even) and clipped at full scale."""
    scaled = samples * 32768.0  # a new array in the samples' float type, worked on in place
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)

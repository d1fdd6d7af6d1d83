"""Causal IIR filtering in second-order sections, block after block (the audit's speaking rate,
the field corpus's telephone line; the front end's speech band has its own compiled kernel,
ivr.detect.band), and scipy.signal's compiled modules loaded without scipy.signal
(`signal_extension`).

The arithmetic is scipy's own: the compiled kernel behind `scipy.signal.sosfilt` (the
`scipy.signal._sosfilt` extension, direct form II transposed), loaded on its own. Importing
scipy.signal to reach it takes 0.6-0.9 s (it imports scipy.stats, interpolate, optimize and
spatial with it), most of the start-up of every command that measures audio; the extension
alone loads in about 20 ms, and calling it directly skips the wrapper's checks on every block.
Its results are bit-identical to `scipy.signal.sosfilt`'s (tests/unit/detect/test_speech_stage.py
compares them); where a scipy release has moved the extension, `scipy.signal.sosfilt` is used.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray], None]
"""scipy's compiled second-order-sections filter (`scipy.signal._sosfilt._sosfilt`):
`(sos, x, zi)` filters the rows of `x` (m, n) in place, `zi` (m, sections, 2) their state,
updated in place; all of one dtype."""


class SectionFilter:
    """The causal filter of second-order sections `sos` ((sections, 6): b0 b1 b2 a0 a1 a2 each)
    over samples fed in order, its state carried from one block to the next, so every output
    sample depends on the samples before it alone, whatever the blocks; arithmetic in `dtype`
    (float32 or float64)."""

    def __init__(self, sos: np.ndarray, dtype: type = np.float32) -> None:
        self._sos = np.ascontiguousarray(sos, dtype=dtype)
        self.state = np.zeros((1, self._sos.shape[0], 2), dtype=dtype)
        """The sections' state (1, sections, 2), zero at the start, carried between blocks."""
        self._kernel = kernel()

    def filter(self, samples: np.ndarray) -> np.ndarray:
        """The next samples (any shape, in time order once flattened) filtered, flat, in the
        filter's dtype."""
        out = np.array(samples, dtype=self._sos.dtype, order="C").reshape(1, -1)  # a copy
        self._kernel(self._sos, out, self.state)
        return out.reshape(-1)


@functools.cache
def kernel() -> Kernel:
    """The compiled kernel, loaded once per process; scipy.signal's when it cannot be."""
    try:
        return signal_extension("_sosfilt")._sosfilt
    except (ImportError, OSError, AttributeError):
        return _wrapped_kernel


@functools.cache
def signal_extension(stem: str) -> ModuleType:
    """scipy.signal's compiled module `stem` (`_sosfilt`, `_peak_finding_utils`) loaded on its
    own, without scipy.signal (ImportError when this scipy has no such file)."""
    name = f"scipy.signal.{stem}"
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    scipy_spec = importlib.util.find_spec("scipy")
    if scipy_spec is None or not scipy_spec.submodule_search_locations:
        raise ImportError("scipy")
    folder = Path(next(iter(scipy_spec.submodule_search_locations))) / "signal"
    paths = [folder / f"{stem}{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        raise ImportError(f"{name} not found in {folder}")
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    # scipy.signal, if a later import brings it in, takes this module instead of a second copy
    # of the same extension.
    sys.modules[name] = module
    return module


def _wrapped_kernel(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    from scipy.signal import sosfilt

    if not x.shape[1]:  # scipy.signal.sosfilt refuses an empty signal
        return
    for row in range(x.shape[0]):
        x[row], zi[row] = sosfilt(sos, x[row], zi=zi[row])

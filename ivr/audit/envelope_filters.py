"""The speaking rate's filters and peak picking (ivr.audit.pace), as scipy.signal computes them
(`butter`, `sosfilt`, `sosfiltfilt`, `find_peaks` with `distance` and `prominence`), without
importing scipy.signal: it takes 0.6-0.9 s to import, more than scoring a call. The designs are
written out (test_envelope_filters.py designs them again and compares) and the arithmetic runs
in scipy's own compiled kernels (ivr.detect.sections.signal_extension); the results are
bit-identical to scipy.signal's, tested under hypothesis, but for the forward-backward filter's
starting state (SYLLABLE_ZI): scipy solves for it with LAPACK, whose last bits vary with the
CPU, so the two agree to 1e-12. Where a scipy release has moved a kernel, scipy.signal itself
is used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from ivr.detect.sections import SectionFilter, signal_extension

VOWEL_SOS = np.array(
    [
        (
            0.027137395503100036,
            0.05427479100620007,
            0.027137395503100036,
            1.0,
            -0.5831986411470919,
            0.13724519667169216,
        ),
        (1.0, 2.0, 1.0, 1.0, -0.6144336329880901, 0.5399427570681308),
        (1.0, -2.0, 1.0, 1.0, -1.7652172334207668, 0.782321888334734),
        (1.0, -2.0, 1.0, 1.0, -1.9110009377791317, 0.9248652140321268),
    ]
)
"""butter(4, (300, 3000) Hz, band-pass, 16 kHz) in second-order sections: the band the
envelope's level is measured in (pace.VOWEL_BAND_HZ)."""

SYLLABLE_SOS = np.array(
    [
        (
            0.0674552738890719,
            0.1349105477781438,
            0.0674552738890719,
            1.0,
            -1.1529929193147692,
            0.48250509654580265,
        ),
        (1.0, -2.0, 1.0, 1.0, -1.8372119058933025, 0.8555383166963143),
    ]
)
"""butter(2, (2, 12) Hz, band-pass, at the envelope's 100 values per second): the envelope's
own changes kept (pace.SYLLABLE_BAND_HZ)."""

SYLLABLE_ZI = np.array(
    [(0.7513948755155914, -0.3276440965059701), (-0.8188501494046627, 0.8188501494046628)]
)
"""sosfilt_zi(SYLLABLE_SOS): the sections' steady state for a unit step."""

SYLLABLE_PAD = 3 * (2 * len(SYLLABLE_SOS) + 1)
"""Values (15) added at each end, an odd extension, before filtering forward and back (as
sosfiltfilt pads: three times the filter's taps; none of its b2 or a2 is zero)."""


def vowel_band() -> SectionFilter:
    """A streaming VOWEL_SOS filter (float64), its state starting at zero."""
    return SectionFilter(VOWEL_SOS, np.float64)


def syllable_band(x: np.ndarray) -> np.ndarray:
    """`x` (1-D, more than SYLLABLE_PAD values) filtered by SYLLABLE_SOS forward and back:
    no delay (scipy.signal.sosfiltfilt with its default odd padding)."""
    x = np.asarray(x, dtype=np.float64)
    n = SYLLABLE_PAD
    ext = np.concatenate((2 * x[0:1] - x[n:0:-1], x, 2 * x[-1:] - x[-2 : -(n + 2) : -1]))
    forward = _filtered(ext, SYLLABLE_ZI * ext[0:1])
    backward = _filtered(forward[::-1], SYLLABLE_ZI * forward[-1:])
    return backward[::-1][n:-n]


def _filtered(x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    band = SectionFilter(SYLLABLE_SOS, np.float64)
    band.state[0] = zi
    return band.filter(x)


def peaks(x: np.ndarray, distance: int, prominence: float) -> np.ndarray:
    """Indices of the local maxima of `x` (1-D) at least `distance` values apart (the higher
    kept) standing at least `prominence` above the higher of their bases (as
    scipy.signal.find_peaks(x, distance=, prominence=))."""
    x = np.asarray(x, order="C", dtype=np.float64)
    kernels = _peak_kernels()
    if kernels is None:
        from scipy.signal import find_peaks

        return find_peaks(x, distance=distance, prominence=prominence)[0]
    local_maxima, by_distance, peak_prominences = kernels
    found = local_maxima(x)[0]
    found = found[by_distance(found, x[found], distance)]
    return found[prominence <= peak_prominences(x, found, np.intp(-1))[0]]


@functools.cache
def _peak_kernels() -> tuple[Callable, Callable, Callable] | None:
    """scipy's compiled local maxima, selection by distance and prominences, loaded once per
    process; None where this scipy has moved them (the same fallback as the filter kernel,
    ivr.detect.sections.kernel)."""
    try:
        found = signal_extension("_peak_finding_utils")
        return found._local_maxima_1d, found._select_by_peak_distance, found._peak_prominences
    except (ImportError, OSError, AttributeError):
        return None

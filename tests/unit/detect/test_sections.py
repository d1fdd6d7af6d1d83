"""IIR filtering in sections (ivr.detect.sections: the audit's speaking rate, the field
corpus's telephone line): scipy's compiled kernel, loaded without scipy.signal, gives what
scipy.signal.sosfilt gives, block after block."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal
from shared import in_pieces

from ivr.detect import sections
from ivr.detect.sections import SectionFilter

BUILD_AND_FILTER = """
import sys
import numpy as np
from ivr.detect.band import SpeechBand
from ivr.detect.sections import SectionFilter
SpeechBand().filter(np.ones((3, 320), dtype=np.int16))
band = [m for m in sys.modules if m.startswith("scipy")]
SectionFilter(np.array([[1.0, 0.0, 0.0, 1.0, -0.5, 0.0]])).filter(np.ones(10))
print([band, sorted(m for m in sys.modules if m.startswith("scipy."))])
"""


def test_the_filters_load_without_scipy_signal():
    # scipy.signal takes 0.6-0.9 s to import: most of a command's start-up. The front end's
    # speech band is compiled with ivr (no scipy); a SectionFilter loads scipy's kernel alone.
    done = subprocess.run(
        [sys.executable, "-c", BUILD_AND_FILTER], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    band, loaded = eval(done.stdout)
    assert band == []
    assert "scipy.signal._sosfilt" in loaded
    assert not [m for m in loaded if m.startswith(("scipy.signal._signaltools", "scipy.stats"))]
    assert "scipy.signal" not in loaded


def test_the_kernel_is_scipys_compiled_one_not_the_fallback():
    assert sections.kernel() is not sections._wrapped_kernel


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    order=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    cuts=st.lists(st.integers(1, 2999), max_size=6),
    kernel=st.sampled_from(["compiled", "fallback"]),
)
def test_filtering_in_blocks_gives_scipys_samples_bit_for_bit(order, dtype, cuts, kernel):
    sos = signal.butter(order, [300.0, 3000.0], btype="band", fs=16000, output="sos")
    x = np.random.default_rng(order).standard_normal(3000) * 1000
    expected = signal.sosfilt(sos.astype(dtype), x.astype(dtype))
    band = SectionFilter(sos, dtype)
    if kernel == "fallback":
        band._kernel = sections._wrapped_kernel
    got = in_pieces(band.filter, x, cuts)
    assert got.dtype == dtype
    assert np.array_equal(got, expected)


def test_an_empty_block_changes_nothing_with_either_kernel():
    for kernel in (sections.kernel(), sections._wrapped_kernel):
        band = SectionFilter(signal.butter(2, 1000.0, fs=16000, output="sos"), np.float64)
        band._kernel = kernel
        band.filter(np.ones(10))
        state = band.state.copy()
        assert band.filter(np.zeros(0)).shape == (0,)
        assert np.array_equal(band.state, state)


KERNELS_THEN_SCIPY_SIGNAL = """
import sys
import numpy as np
from ivr.audit.envelope_filters import peaks
from ivr.detect.band import SECTIONS
from ivr.detect.sections import SectionFilter
frames = np.random.default_rng(2).integers(-3000, 3000, (20, 320)).astype(np.int16)
ours = SectionFilter(SECTIONS).filter(frames)
x = np.random.default_rng(3).standard_normal(500)
found = peaks(x, 3, 0.5)
loaded = sys.modules["scipy.signal._sosfilt"]
from scipy import signal  # imported after the kernels were loaded on their own
assert sys.modules["scipy.signal._sosfilt"] is loaded
assert np.array_equal(signal.sosfilt(SECTIONS, frames.reshape(-1).astype(np.float32)), ours)
assert np.array_equal(signal.find_peaks(x, distance=3, prominence=0.5)[0], found)
print("ok")
"""


def test_scipy_signal_imported_after_the_kernels_uses_them_and_agrees():
    command = [sys.executable, "-c", KERNELS_THEN_SCIPY_SIGNAL]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

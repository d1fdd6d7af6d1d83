"""numpy's OpenBLAS runs on one thread in ivr (ivr.BLAS_THREADS): the front end's products are
small, and OpenBLAS's thread per core spun between them, doubling the CPU time of a replay or an
audit. OpenBLAS starts its threads when numpy is imported, so each check runs in a fresh
interpreter and counts the process's threads there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

THREADS_AFTER = """
import os, sys
for name in sys.argv[1:]:
    __import__(name)
import numpy
print(len(os.listdir("/proc/self/task")))
"""
"""Imports the modules named on its command line, in order, then numpy (as a command does once
it measures audio), then prints the process's threads."""

needs_cores = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="OpenBLAS starts one thread per core: one core here"
)


def threads_after(*modules: str, **env: str) -> int:
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", THREADS_AFTER, *modules],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


@needs_cores
def test_numpy_alone_starts_a_blas_thread_per_core():
    # what ivr prevents: shows the count below can tell the two apart on this machine
    assert threads_after() > 1


@needs_cores
@pytest.mark.parametrize("module", ["ivr.detect.frontend", "ivr.audit", "ivr.cli"])
def test_ivr_imported_first_leaves_numpy_one_thread(module):
    assert threads_after(module) == 1


@needs_cores
def test_a_users_own_setting_is_kept():
    assert threads_after("ivr.detect.frontend", OPENBLAS_NUM_THREADS="2") == 2


TONE_POWERS = """
import sys, numpy as np
from ivr.detect.narrowband import tone_bank, tone_powers
frames = (np.random.default_rng(5).standard_normal((400, 160)) * 3000).astype(np.float32)
sys.stdout.buffer.write(tone_powers(frames, tone_bank(np.linspace(300, 3400, 24))).tobytes())
"""
"""Writes the tone detectors' filter-bank powers of 400 seeded frames at 24 frequencies."""


def tone_powers_on(threads: int) -> bytes:
    done = subprocess.run(
        [sys.executable, "-c", TONE_POWERS],
        env={**os.environ, "OPENBLAS_NUM_THREADS": str(threads)},
        capture_output=True,
        check=True,
    )
    return done.stdout


def test_the_tone_bank_gives_the_same_bits_on_one_thread_as_on_several():
    # the product whose threads are saved: the tone detectors must not hear any difference
    one = tone_powers_on(1)
    assert len(one) == 400 * 24 * 4  # float32 powers
    assert tone_powers_on(max(len(os.sched_getaffinity(0)), 2)) == one

"""ivr keeps the memory a block of frames freed for the next block (ivr.MMAP_THRESHOLD_BYTES,
ivr.TRIM_THRESHOLD_BYTES): left to glibc's defaults, every block's arrays were mapped from the
system and handed back, and faulted in again. Each check runs in a fresh interpreter and counts
its page faults over blocks shaped like the front end's (the count is the kernel's, not a
time)."""

from __future__ import annotations

import os
import subprocess
import sys

FAULTS_OVER_BLOCKS = """
import resource, sys
if sys.argv[1] == "ivr":
    import ivr
import numpy as np

def block():
    # a 1000-frame block's arrays: samples, high-passed, band, pcm as float, narrow band
    arrays = [np.ones((1000, 320), np.float32) for _ in range(5)]
    arrays += [np.ones((1000, 160), np.float32) for _ in range(2)]
    return sum(float(a[0, 0]) for a in arrays)

block()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    block()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults_over_blocks(importing: str, **env: str) -> int:
    environ = {
        k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")
    }
    done = subprocess.run(
        [sys.executable, "-c", FAULTS_OVER_BLOCKS, importing],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_blocks_reuse_the_memory_the_last_block_freed():
    # the control: numpy alone, glibc's defaults, faults each block's pages in again
    assert faults_over_blocks("numpy") > 30 * 1000
    assert faults_over_blocks("ivr") < 300


def test_a_users_own_allocator_settings_are_kept():
    # GLIBC_TUNABLES (here a setting that changes nothing) means the user tunes glibc: ivr
    # leaves it alone, and the blocks fault as with the defaults
    assert faults_over_blocks("ivr", GLIBC_TUNABLES="glibc.malloc.perturb=0") > 30 * 1000

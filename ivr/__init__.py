"""ivr: an offline voice IVR and outbound-calling prototype.

Audio frames (16 kHz mono int16, 20 ms) flow from a source through detectors (voice activity,
level, noise floor) into a dialog engine that performs call-center service scripts.
"""

import os

__version__ = "0.1.0"

BLAS_THREADS = "1"
"""Threads numpy's and scipy's OpenBLAS may use (OPENBLAS_NUM_THREADS, unless it is set
already): one. The front end's matrix products are small (a block of 20 ms frames times a tone
filter bank, ivr.detect.narrowband), and OpenBLAS runs them on a thread per core that then
spins, waiting for the next product: on 2 cores, unpinned, they doubled the CPU time of
`ivr audit` (230x real time per core against 445x on one thread; the products themselves give
the same bits either way). Calls run side by side in processes (`-j`) and threads (the calls of
a SIP line), not inside one product. OpenBLAS reads it when numpy is first imported: importing
ivr first, as its commands and workers do, is enough."""

os.environ.setdefault("OPENBLAS_NUM_THREADS", BLAS_THREADS)

MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""Allocations at least this large get memory of their own from the system (glibc's
M_MMAP_THRESHOLD): 32 MiB, above a block's arrays (a 1000-frame block's float samples are
1.25 MiB). Left to itself, glibc maps each such array on its own and hands it back when it is
freed, so every block of a replay, audit or tune faulted its pages in again: a fifth of the
front end's CPU time, most of it in the kernel."""

TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024
"""Free memory at the top of the heap kept rather than handed back (glibc's M_TRIM_THRESHOLD):
64 MiB, so that the next block reuses the pages the last one freed."""


def _keep_block_memory() -> None:
    """Set glibc's allocator to MMAP_THRESHOLD_BYTES and TRIM_THRESHOLD_BYTES (mallopt), unless
    the user tunes it (GLIBC_TUNABLES, MALLOC_*_); nothing where the C library has no mallopt."""
    if "GLIBC_TUNABLES" in os.environ or any(k.startswith("MALLOC_") for k in os.environ):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(-3, MMAP_THRESHOLD_BYTES)  # M_MMAP_THRESHOLD
    mallopt(-1, TRIM_THRESHOLD_BYTES)  # M_TRIM_THRESHOLD


_keep_block_memory()

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

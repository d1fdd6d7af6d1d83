"""Worker processes die with the process that started them, however it dies.

A worker pool's parent killed with SIGKILL runs no cleanup: without this its workers stay
alive as orphans, holding memory and (for SIP) their ports, until someone kills them. On Linux
the kernel sends a worker SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG); a parent that
died before the worker got that far is noticed by its process id having changed. Elsewhere
the worker checks on its parent every PARENT_CHECK_S seconds from a daemon thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal the kernel sends this process when its parent exits."""

PARENT_CHECK_S = 0.5
"""How often (s) a worker where prctl is unavailable checks that its parent lives."""


def die_with_parent(parent_pid: int) -> None:
    """In a worker started by `parent_pid`: end this process when that one ends. Call it first
    thing in the worker, and start workers from the parent's main thread (the kernel's signal
    comes when the thread that started the worker ends)."""
    if sys.platform.startswith("linux") and _pdeathsig(signal.SIGKILL):
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(parent_pid,), daemon=True, name="lifeline").start()


def _pdeathsig(signum: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library is already loaded: no search
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)

"""Two limits of the pjsua2 wheel's build, read (and one set) through its own exported C
symbols: how many calls one agent may hold at once, and how long a SIP transaction waits for
a response before it fails.

The wheel is built with `PJSUA_MAX_CALLS` 4: one endpoint (one process) holds at most 4 calls,
so more at once need more processes (ivr.service.workers). An INVITE nobody answers would hold its
call slot for pjsip's Timer B, 32 s (64 x T1); `shorten_transaction_timeout` sets the
transaction timeout (`pjsip_cfg()->tsx.td`, which pjsip reads when its transaction layer starts)
before the endpoint is initialized. It changes the value only where it finds pjsip's default
timers (T1 500 ms, T2 4 s, T4 5 s, TD 32 s) side by side exactly once; otherwise it leaves the
library alone and says so.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

TRANSACTION_TIMEOUT_S = 4.0
"""How long (s) a SIP transaction waits for any response before pjsip fails it (408): an
INVITE that gets none is `unreachable` by then, and its call slot is free again."""

_DEFAULT_TIMERS_MS = (500, 4000, 5000, 32000)
"""pjsip's default T1, T2, T4 and TD (ms), consecutive unsigned ints in pjsip_cfg()->tsx."""

_SCAN_BYTES = 1024
"""How far into pjsip's configuration to look for them (bytes)."""


@functools.cache
def _library(pj: Any) -> ctypes.CDLL:
    return ctypes.CDLL(pj._pjsua2.__file__)


def max_calls(pj: Any) -> int:
    """How many calls the initialized endpoint may hold at once."""
    count = _library(pj).pjsua_call_get_max_count
    count.restype = ctypes.c_uint
    return int(count())


def shorten_transaction_timeout(pj: Any, seconds: float = TRANSACTION_TIMEOUT_S) -> bool:
    """Set pjsip's transaction timeout to `seconds` (before `libInit`); whether it was set."""
    try:
        config = ctypes.c_uint.in_dll(_library(pj), "pjsip_sip_cfg_var")
    except (OSError, ValueError, AttributeError):
        return False
    words = (ctypes.c_uint * (_SCAN_BYTES // 4)).from_address(ctypes.addressof(config))
    values = list(words)
    wanted = list(_DEFAULT_TIMERS_MS)
    found = [i for i in range(len(values) - 3) if values[i : i + 4] == wanted]
    if len(found) != 1:
        return False
    words[found[0] + 3] = round(seconds * 1000)
    return True

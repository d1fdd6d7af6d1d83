"""Our SIP user agent: PJSIP (pjsua2) with no sound card, calls whose audio is our own port.

One `SipAgent` is one pjsua2 endpoint: a UDP transport, an account that does not register
(calls go straight to `sip:user@host:port`), G.711 only (PCMU, then PCMA), the null sound
device. SIP events are handled only on the thread that calls `poll` (`mainThreadOnly`); the
audio of each call flows through a `FramePort`, whose two callbacks run on PJSIP's media clock
thread every 20 ms: one takes the callee's frame, one hands over ours. The conference bridge
runs at 16 kHz and converts to and from the line's 8 kHz G.711.

pjsua2 is imported only when an agent is made: it is a binary wheel that not every install
needs. Rules its bindings impose (breaking them crashes the process): no exception may leave a
callback; calls and ports are dropped before the endpoint is destroyed.
"""

from __future__ import annotations

import collections
import sys
import threading
from typing import Any

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.errors import DeviceError

FRAME_BYTES = FRAME_SAMPLES * 2
"""Bytes of one 20 ms frame of 16 kHz int16 audio."""


def _pj() -> Any:
    try:
        import pjsua2
    except ImportError as exc:
        raise DeviceError(f"no SIP stack: {exc}; install the pjsua2-python wheel") from None
    return pjsua2


class FramePort:
    """A call's audio, both ways, in 20 ms frames (made by `SipAgent.port`).

    `received` holds the callee's frames (int16) in order, a silent frame where none came;
    `handed` counts our frames given to the line so far. On the call's clock (frames received),
    `started_at` is the frame the prompt's first 20 ms went out in and `finished_at` the frame
    its last 20 ms ended at (or where it was cut); None until then."""

    def __init__(self) -> None:
        self.received: collections.deque[np.ndarray] = collections.deque()
        self.frames_received = 0
        self.handed = 0
        self.finished_at: int | None = None
        self.started_at: int | None = None
        self._lock = threading.Lock()
        self._samples = np.zeros(0, np.int16)
        self._pos = 0
        self._silence = bytes(FRAME_BYTES)

    def play(self, samples: np.ndarray) -> None:
        """Hand `samples` (int16, whole frames) to the line from the next frame on."""
        with self._lock:
            self._samples = np.ascontiguousarray(samples, dtype=np.int16)
            self._pos = 0
            self.started_at = self.finished_at = None

    def stop(self) -> None:
        """Stop handing over the prompt (barge-in)."""
        with self._lock:
            if self._pos < self._samples.size:
                self.finished_at = self.frames_received
            self._samples = np.zeros(0, np.int16)
            self._pos = 0

    def next_frame(self) -> bytes:
        """Our next 20 ms for the line (media thread)."""
        with self._lock:
            self.handed += 1
            if self._pos >= self._samples.size:
                return self._silence
            if self._pos == 0:
                self.started_at = self.frames_received
            chunk = self._samples[self._pos : self._pos + FRAME_SAMPLES]
            self._pos += FRAME_SAMPLES
            if self._pos >= self._samples.size:
                self.finished_at = self.frames_received + 1
            return chunk.tobytes()

    def take_frame(self, data: bytes | None) -> None:
        """The callee's next 20 ms (media thread); None: nothing came (silence)."""
        if data is None or len(data) != FRAME_BYTES:
            frame = np.zeros(FRAME_SAMPLES, np.int16)
        else:
            frame = np.frombuffer(data, dtype=np.int16)
        with self._lock:
            self.received.append(frame)
            self.frames_received += 1

    def restart(self) -> None:
        """The call was answered: its clock starts at frame 0 now."""
        with self._lock:
            self.received.clear()
            self.frames_received = 0


class SipAgent:
    """A pjsua2 endpoint on `host` (UDP port `port`, 0: any free one)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, user: str = "ivr") -> None:
        pj = self.pj = _pj()
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = 32
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 1
        media = cfg.medConfig
        media.clockRate = media.sndClockRate = SAMPLE_RATE
        media.audioFramePtime = 20
        media.channelCount = 1
        media.noVad = True
        media.ecTailLen = 0
        self.ep.libInit(cfg)
        transport = pj.TransportConfig()
        transport.port = port
        transport.boundAddress = transport.publicAddress = host
        tid = self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
        self.port = self.ep.transportGetInfo(tid).localName.rsplit(":", 1)[-1]
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        for codec in self.ep.codecEnum2():
            name = codec.codecId
            rank = 255 if name.startswith("PCMU/") else 254 if name.startswith("PCMA/") else 0
            self.ep.codecSetPriority(name, rank)
        account = pj.AccountConfig()
        account.idUri = f"sip:{user}@{host}:{self.port}"
        account.regConfig.registerOnAdd = False
        account.mediaConfig.transportConfig.boundAddress = host
        account.mediaConfig.transportConfig.publicAddress = host
        account.mediaConfig.lockCodecEnabled = False
        self.account = pj.Account()
        self.account.create(account)
        self.calls: list[Any] = []

    def poll(self, ms: int = 10) -> None:
        """Handle SIP events for up to `ms` milliseconds (on this, the agent's thread)."""
        self.ep.libHandleEvents(ms)

    def close(self) -> None:
        """Hang up what is still up, drop calls and ports, destroy the endpoint."""
        if self.ep is None:
            return
        for call in self.calls:
            call.hang_up()
        for _ in range(10):
            self.poll(10)
        sys.last_type = sys.last_value = sys.last_traceback = None
        for call in self.calls:
            call.release()
        self.calls.clear()
        self.account.shutdown()
        self.account = None
        self.ep.libDestroy(self.pj.PJSUA_DESTROY_NO_RX_MSG)
        self.ep = None

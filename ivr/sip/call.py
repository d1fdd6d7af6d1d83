"""One outgoing SIP call of a `SipAgent`: its state, its SIP status, its audio port.

The pjsua2 classes are subclassed here at first use (pjsua2 is imported only then). Their
callbacks never raise: a failure inside one is kept in `errors` (an exception escaping a
pjsua2 callback would keep the call alive past the endpoint and crash the process at exit).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from typing import Any

from ivr.audio.format import SAMPLE_RATE
from ivr.sip.agent import FRAME_BYTES, FramePort, SipAgent

_VECTOR = ctypes.c_void_p * 3  # std::vector's begin, end, capacity pointers


def _vector_bytes(vector: Any) -> bytes:
    """The bytes of a pjsua2 ByteVector, read in place (copying element by element through
    the bindings costs ~0.3 ms a frame); valid only inside the callback that received it."""
    begin, end, _ = _VECTOR.from_address(int(vector.this))
    return ctypes.string_at(begin, end - begin) if begin else b""


@functools.cache
def _classes(pj: Any) -> tuple[type, type]:
    class MediaPort(pj.AudioMediaPort):
        def __init__(self, frames: FramePort, name: str) -> None:
            super().__init__()
            self.frames = frames
            self.errors: list[str] = []
            fmt = pj.MediaFormatAudio()
            fmt.type = pj.PJMEDIA_TYPE_AUDIO
            fmt.clockRate = SAMPLE_RATE
            fmt.channelCount = 1
            fmt.bitsPerSample = 16
            fmt.frameTimeUsec = 20000
            self.createPort(name, fmt)

        def onFrameRequested(self, frame: Any) -> None:
            try:
                frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
                frame.buf = pj.ByteVector(self.frames.next_frame())
                frame.size = FRAME_BYTES
            except BaseException as exc:  # never out of a callback
                self.errors.append(repr(exc))

        def onFrameReceived(self, frame: Any) -> None:
            try:
                audio = frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size
                self.frames.take_frame(_vector_bytes(frame.buf) if audio else None)
            except BaseException as exc:
                self.errors.append(repr(exc))

    class PjCall(pj.Call):
        def __init__(self, account: Any, owner: SipCall) -> None:
            super().__init__(account)
            self.owner = owner

        def onCallState(self, prm: Any) -> None:
            try:
                info = self.getInfo()
                self.owner.on_state(info.state, info.lastStatusCode, info.lastReason)
            except BaseException as exc:
                self.owner.errors.append(repr(exc))

        def onCallMediaState(self, prm: Any) -> None:
            try:
                info = self.getInfo()  # kept: iterating a temporary's media reads freed memory
                for media in info.media:
                    active = media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                    if media.type == pj.PJMEDIA_TYPE_AUDIO and active:
                        self.owner.connect(self.getAudioMedia(media.index))
            except BaseException as exc:
                self.owner.errors.append(repr(exc))

    return MediaPort, PjCall


class SipCall:
    """A call from `agent` to `uri`; its audio is `frames`."""

    def __init__(self, agent: SipAgent, uri: str) -> None:
        pj = self.pj = agent.pj
        media_port, pj_call = _classes(pj)
        self.frames = FramePort()
        self.errors: list[str] = []
        self.state = "calling"
        """calling | ringing | connected | ended"""
        self.status: int | None = None
        """The last SIP status code (200, 486, 408, 487 ...)."""
        self.reason = ""
        self.answered = False
        self._media: Any = None
        self._port = media_port(self.frames, f"ivr{id(self):x}")
        self._call = pj_call(agent.account, self)
        agent.calls.append(self)
        self._call.makeCall(uri, pj.CallOpParam(True))

    def on_state(self, state: int, status: int, reason: str) -> None:
        """pjsua2's call state (SIP thread)."""
        pj = self.pj
        self.status, self.reason = status, reason
        if state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.state, self._media = "ended", None
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.state, self.answered = "connected", True
        elif state == pj.PJSIP_INV_STATE_EARLY:
            self.state = "ringing"

    def connect(self, media: Any) -> None:
        """Our port to the call's audio and back (once its media is up)."""
        if self._media is None:
            self._media = media
            self._port.startTransmit(media)
            media.startTransmit(self._port)

    def hang_up(self) -> None:
        """Send BYE (or CANCEL) if the call is still up."""
        if self.state != "ended":
            with contextlib.suppress(self.pj.Error):
                self._call.hangup(self.pj.CallOpParam(True))

    def release(self) -> None:
        """Drop the pjsua2 objects (before the endpoint goes)."""
        self._media = None
        self._call = None
        self._port = None

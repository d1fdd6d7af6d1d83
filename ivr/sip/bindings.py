"""pjsua2's classes, subclassed at first use (pjsua2 is imported only then): our audio port,
a call that reports to its `SipCall` (state, responses, media, the telephone keys the other
side sends as RFC 4733 telephone-events or SIP INFO, and its RTP stream's counts at its end),
an account that hands incoming calls to its agent.

Their callbacks never raise (an exception escaping a pjsua2 callback would keep the call alive
past the endpoint and crash the process at exit): a failure inside the audio port's or a
call's callback is reported to its call (`FramePort.fail`, `SipCall.fail`), which then ends as
`media_error` with the reason. A failure while an incoming call is taken in goes to the agent
(`SipAgent.incoming_failed`): `ivr serve` counts it and names the first reason.

A call object is dropped in the callback that reports its end (pjsua2's own rule: "delete this"
in onCallState when DISCONNECTED). pjsua2's `Call` destructor hangs up whatever call holds its
call slot number *now*: dropped later, after pjsua gave the slot to the next INVITE, it refused
that new call with 603 Decline and cut it off from its callbacks (it then never got an ACK,
a state or an end).
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

from ivr.audio.format import SAMPLE_RATE
from ivr.sip.frames import FRAME_BYTES, FramePort

_VECTOR = ctypes.c_void_p * 3  # std::vector's begin, end, capacity pointers


def _vector_bytes(vector: Any) -> bytes:
    """The bytes of a pjsua2 ByteVector, read in place (copying element by element through
    the bindings costs ~0.3 ms a frame); valid only inside the callback that received it."""
    begin, end, _ = _VECTOR.from_address(int(vector.this))
    return ctypes.string_at(begin, end - begin) if begin else b""


def _fill_vector(vector: Any, data: bytes) -> None:
    """Make a pjsua2 ByteVector hold `data`, written in place (building a new ByteVector from
    bytes converts them one by one: 30 us a frame, against 6 us); only inside the callback
    that handed it over."""
    vector.resize(len(data))
    begin, _, _ = _VECTOR.from_address(int(vector.this))
    ctypes.memmove(begin, data, len(data))


@functools.cache
def classes(pj: Any) -> tuple[type, type, type]:
    """(MediaPort, PjCall, PjAccount) for the pjsua2 module `pj`."""
    return _media_port_class(pj), _call_class(pj), _account_class(pj)


def _media_port_class(pj: Any) -> type:
    """Our audio port: frames to send taken from, and frames received given to, a FramePort."""

    class MediaPort(pj.AudioMediaPort):
        def __init__(self, frames: FramePort, name: str) -> None:
            super().__init__()
            self.frames = frames
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
                _fill_vector(frame.buf, self.frames.next_frame())
                frame.size = FRAME_BYTES
            except BaseException as exc:  # never out of a callback: to the call
                self.frames.fail(f"sending audio: {exc!r}")

        def onFrameReceived(self, frame: Any) -> None:
            try:
                audio = frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size
                self.frames.take_frame(_vector_bytes(frame.buf) if audio else None)
            except BaseException as exc:
                self.frames.fail(f"receiving audio: {exc!r}")

    return MediaPort


def _call_class(pj: Any) -> type:
    """A call that reports its state, responses, media and telephone keys to its owner."""

    class PjCall(pj.Call):
        def __init__(self, account: Any, owner: Any, call_id: int | None = None) -> None:
            if call_id is None:
                super().__init__(account)
            else:
                super().__init__(account, call_id)
            self.owner = owner

        def onCallState(self, prm: Any) -> None:
            try:
                info = self.getInfo()
                self.owner.on_state(info.state, info.lastStatusCode, info.lastReason)
                if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                    self.owner.detach()  # now, while its call slot is still this call's
            except BaseException as exc:
                self.owner.fail(f"onCallState: {exc!r}")

        def onCallTsxState(self, prm: Any) -> None:
            try:
                event = prm.e
                if event.type == pj.PJSIP_EVENT_TSX_STATE:
                    state = event.body.tsxState
                    received = state.type == pj.PJSIP_EVENT_RX_MSG  # not pjsip's own 408/503
                    if received and state.tsx.role == pj.PJSIP_ROLE_UAC:
                        self.owner.on_response(state.tsx.method, state.tsx.statusCode)
            except BaseException as exc:
                self.owner.fail(f"onCallTsxState: {exc!r}")

        def onDtmfDigit(self, prm: Any) -> None:
            try:
                self.owner.on_key(str(prm.digit))
            except BaseException as exc:
                self.owner.fail(f"onDtmfDigit: {exc!r}")

        def onStreamDestroyed(self, prm: Any) -> None:
            try:  # the stream's counts, read while it still exists
                stat = self.getStreamStat(prm.streamIdx)
                self.owner.on_stream_end(stat.rtcp.rxStat, stat.jbuf)
            except BaseException as exc:  # the call is ending: it goes on without the counts
                self.owner.rtp_failure = f"onStreamDestroyed: {exc!r}"

        def onCallMediaState(self, prm: Any) -> None:
            try:
                info = self.getInfo()  # kept: iterating a temporary's media reads freed memory
                for media in info.media:
                    active = media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                    if media.type == pj.PJMEDIA_TYPE_AUDIO and active:
                        self.owner.connect(self.getAudioMedia(media.index), media.index)
            except BaseException as exc:
                self.owner.fail(f"onCallMediaState: {exc!r}")

    return PjCall


def _account_class(pj: Any) -> type:
    """An account that hands incoming calls to its agent."""

    class PjAccount(pj.Account):
        def __init__(self, agent: Any) -> None:
            super().__init__()
            self.agent = agent

        def onIncomingCall(self, prm: Any) -> None:
            try:
                try:
                    message = str(prm.rdata.wholeMsg)
                except UnicodeError:  # not UTF-8: pjsip parsed it, nothing more to check
                    message = ""
                self.agent.incoming_call(prm.callId, prm.rdata.srcAddress, message)
            except BaseException as exc:
                self.agent.incoming_failed(f"onIncomingCall: {exc!r}")

    return PjAccount

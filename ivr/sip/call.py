"""One SIP call of a `SipAgent`, placed or taken: its state, its SIP status, its audio port.

Its pjsua2 work runs on the agent's thread (`SipAgent.run`), whichever thread asks for it.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from typing import Any

from ivr.errors import DeviceError
from ivr.sip.agent import SipAgent
from ivr.sip.bindings import classes
from ivr.sip.frames import FramePort
from ivr.sip.states import CallState

PJ_ETOOMANY = 70010
"""pjlib's status for "too many objects": no call slot is free."""

SLOT_WAIT_S = 30.0
"""How long (s) a call waits for a free call slot of its agent before it fails."""

SLOT_POLL_MS = 50
"""How often (ms) it looks again."""

COUNTS_WAIT_S = 2.0
"""How long a call that had audio waits, once it has ended, for its stream's counts (s): the
stream ends as the call does, on the SIP thread, a moment after the session has seen the end."""

REFUSED = 486
"""The final response an incoming call we hang up before answering it gets (486 Busy Here;
pjsua's own default there is 603 Decline)."""


@dataclass(frozen=True)
class RtpReceived:
    """What a call's RTP stream received, counted by pjmedia when the stream ended (its RTCP
    receive statistics and its jitter buffer's)."""

    packets: int
    """RTP packets received."""
    lost: int
    """Packets never received: gaps in the RTP sequence numbers."""
    discarded: int
    """Packets received but thrown away: too late, or the jitter buffer full (the larger of
    the stream's and its jitter buffer's counts, which count the same packets)."""
    filled: int
    """Frames the jitter buffer had none for when the media clock asked (empty or lost)."""
    jitter_max_ms: float
    """The largest interarrival jitter (RFC 3550) seen (ms)."""


class SipCall:
    """A call from `agent` to `uri` (made with `SipCall(agent, uri)`; an incoming call with
    `SipCall.incoming`); its audio is `frames`."""

    def __init__(self, agent: SipAgent, uri: str | None, timing: bool = False) -> None:
        self.pj = agent.pj
        self.agent = agent
        self.uri = uri
        self.frames = FramePort(timing)
        self.state = CallState.CALLING if uri is not None else CallState.INCOMING
        """Where the call stands."""
        self.status: int | None = None
        """The last SIP status code (200, 486, 408, 487 ...)."""
        self.reason = ""
        self.answered = False
        self.accepted = False
        """Whether we answered this incoming call with 200 (its caller's ACK may still be due:
        `answered` comes with the ACK)."""
        self.forgotten: float | None = None
        """When its owner was done with it (s, monotonic): the agent drops it once it has
        ended, or after ivr.sip.agent.LINGER_S if the other side never ends it."""
        self.responded = False
        """Whether any response to our INVITE came from the network (100 Trying on); pjsip's
        own 408 or 503 (timeout, transport error) does not count."""
        self.source = ""
        """Where an incoming call came from (HOST:PORT)."""
        self.remote = ""
        """The other party's SIP URI (From of an incoming call, To of ours)."""
        self.rtp: RtpReceived | None = None
        """The RTP stream's counts, once its audio stream has ended (None before, or if it
        never had one, or they could not be read: `rtp_failure` says why)."""
        self.rtp_failure = ""
        self.had_media = False
        """Whether the call's audio was ever connected (it then has an RTP stream to count)."""
        self._media: Any = None
        self._media_index = 0
        self._port: Any = None
        self._call: Any = None
        if uri is not None:
            self._place_when_free()

    def _place_when_free(self) -> None:
        """Place the call as soon as the agent has a free call slot (a call just ended may
        hold its slot a moment longer); DeviceError after SLOT_WAIT_S."""
        give_up = time.monotonic() + SLOT_WAIT_S
        while not self.agent.run(self._place):
            if time.monotonic() > give_up:
                raise DeviceError(f"no free call slot in the SIP stack for {SLOT_WAIT_S:g} s")
            self.agent.wait(self.frames, SLOT_POLL_MS)

    @classmethod
    def incoming(cls, agent: SipAgent, call_id: int, source: str) -> SipCall:
        """The call `call_id` that came in from `source` (agent thread)."""
        call = cls(agent, None)
        call.source = source
        _, pj_call, _ = classes(call.pj)
        call._port = agent.port_for(call.frames)
        call._call = pj_call(agent.account, call, call_id)
        info = call._call.getInfo()
        call.remote = info.remoteUri
        agent.calls.append(call)
        return call

    @property
    def remote_user(self) -> str:
        """The user part of the other party's URI (an incoming call's number), or ''."""
        match = re.search(r"sips?:([^@;>\s]+)@", self.remote)
        return match.group(1) if match else ""

    def _place(self) -> bool:
        """Send the INVITE (agent thread); False if no call slot is free yet."""
        _, pj_call, _ = classes(self.pj)
        self._port = self.agent.port_for(self.frames)
        self._call = pj_call(self.agent.account, self)
        self.agent.calls.append(self)
        try:
            self._call.makeCall(self.uri, self.pj.CallOpParam(True))
        except self.pj.Error as exc:
            if exc.status == PJ_ETOOMANY:  # ours, not the line's: every call slot is taken
                self.agent.calls.remove(self)
                self._call = None
                self.agent.return_port(self._port)
                self._port = None
                return False
            self.state, self.status = CallState.ENDED, None  # exc.status is pjlib's, not SIP's
            self.reason = exc.reason or exc.info()
        return True

    def answer(self, status: int = 200) -> bool:
        """Answer an incoming call (180: ring, 200: take it, 486: busy, ...); whether the
        response was sent (not if the call has ended, e.g. its caller cancelled it)."""

        def answer() -> bool:
            if self.state == CallState.ENDED or self._call is None:
                return False
            prm = self.pj.CallOpParam(True)
            prm.statusCode = status
            try:
                self._call.answer(prm)
            except self.pj.Error:
                return False
            if status == 200:
                self.accepted = True
            return True

        return self.agent.run(answer)

    def on_state(self, state: int, status: int, reason: str) -> None:
        """pjsua2's call state (SIP thread)."""
        pj = self.pj
        self.status, self.reason = status or None, reason  # 0: no response yet
        if state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.state, self._media = CallState.ENDED, None
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.state, self.answered = CallState.CONNECTED, True
        elif state == pj.PJSIP_INV_STATE_EARLY and self.state == CallState.CALLING:
            self.state = CallState.RINGING
        self.frames.nudge()

    def fail(self, reason: str) -> None:
        """One of the call's pjsua2 callbacks failed (`reason`; SIP thread): the call ends as
        `media_error` with it (its session reads `frames.failure`)."""
        self.frames.fail(reason)

    def on_key(self, digit: str) -> None:
        """The other side sent telephone key `digit` out of band (SIP thread)."""
        self.frames.key(digit.upper())

    def on_stream_end(self, received: Any, jitter_buffer: Any) -> None:
        """The call's audio stream is ending (SIP thread): keep its counts (pjsua2's
        RtcpStreamStat and JbufState)."""
        self.rtp = RtpReceived(
            packets=int(received.pkt),
            lost=int(received.loss),
            discarded=max(int(received.discard), int(jitter_buffer.discard)),
            filled=int(jitter_buffer.empty) + int(jitter_buffer.lost),
            jitter_max_ms=received.jitterUsec.max / 1000,
        )
        self.frames.nudge()

    def await_counts(self, timeout_s: float = COUNTS_WAIT_S) -> RtpReceived | None:
        """The stream's counts (`rtp`) of a call that has ended, waiting up to `timeout_s` (s)
        for them if the call had audio; None if it had none or they did not come."""
        give_up = time.monotonic() + timeout_s
        while self.had_media and self.rtp is None and not self.rtp_failure:
            if time.monotonic() > give_up:
                break
            try:
                self.agent.wait(self.frames, SLOT_POLL_MS)
            except DeviceError:  # the agent has stopped: no counts will come
                break
        return self.rtp

    def packets_received(self) -> int | None:
        """RTP packets received on the call's audio stream so far (pjmedia's count, from any
        thread); None when it has no stream (its audio never connected, or the call ended) or
        the count cannot be read."""

        def count() -> int | None:
            if self._call is None or self._media is None:
                return None
            try:
                return int(self._call.getStreamStat(self._media_index).rtcp.rxStat.pkt)
            except self.pj.Error:
                return None

        try:
            return self.agent.run(count)
        except DeviceError:  # the agent has stopped
            return None

    def on_response(self, method: str, status: int) -> None:
        """A response to one of our requests came in from the network (SIP thread)."""
        if method == "INVITE" and status:
            self.responded = True

    def connect(self, media: Any, index: int = 0) -> None:
        """Our port to the call's audio and back (once its media is up); `index`: the audio's
        place among the call's media (its stream's, for `packets_received`)."""
        if self._media is None:
            self.had_media = True
            self._media, self._media_index = media, index
            self._port.startTransmit(media)
            media.startTransmit(self._port)

    def hang_up(self) -> None:
        """Send BYE (or CANCEL, or for an incoming call not answered yet, REFUSED) if the call
        is still up (from any thread)."""

        def hang_up() -> None:
            if self.state != CallState.ENDED and self._call is not None:
                prm = self.pj.CallOpParam(True)
                if self.uri is None and not self.accepted:
                    prm.statusCode = REFUSED
                with contextlib.suppress(self.pj.Error):
                    self._call.hangup(prm)

        if self.state != CallState.ENDED:
            with contextlib.suppress(DeviceError):  # the agent has stopped: nothing is up
                self.agent.run(hang_up)

    def detach(self) -> None:
        """Drop the pjsua2 call: it has ended (SIP thread, in the callback that says so)."""
        self._media = None
        self._call = None

    def release(self) -> None:
        """Drop the pjsua2 call (if still held: one that has not ended) and give its audio
        port back (agent thread, before the endpoint goes)."""
        self._media = None
        self._call = None
        if self._port is not None:
            self.agent.return_port(self._port)
            self._port = None

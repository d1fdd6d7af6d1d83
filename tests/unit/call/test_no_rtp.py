"""The answered call whose other side never sends RTP (ivr.transports.sip.NO_RTP_S): the rule
over the call's clock, with the packet count handed in (a SIP call's own count, from pjmedia,
is exercised end to end by tests/line/test_sipp_far_end.py)."""

from __future__ import annotations

from ivr.errors import LineEnded
from ivr.transports.sip import BLOCK_FRAMES, NO_RTP_S, SipCallee

DUE = round(NO_RTP_S * 50)
"""The frame the first packet must have come by (20 ms frames)."""


class Counts:
    """A call whose RTP packet counts, asked in turn, are `counts` (None: no stream)."""

    def __init__(self, *counts: int | None) -> None:
        self.counts = list(counts)
        self.asked = 0

    def packets_received(self) -> int | None:
        self.asked += 1
        return self.counts.pop(0)


def callee(call: Counts, no_rtp_s: float = NO_RTP_S) -> SipCallee:
    """The port of an answered call past its first frame, no timer of the session's due."""
    port = SipCallee(None, call, "line", no_rtp_s=no_rtp_s)  # type: ignore[arg-type]
    port.due_at(None)
    return port


def test_five_seconds_without_a_packet_end_the_call_as_media_error():
    call = Counts(0)
    port = callee(call)
    assert DUE == 250
    assert port._no_rtp(DUE - 1) is None and call.asked == 0  # not asked before its frame
    ended = port._no_rtp(DUE)
    assert isinstance(ended, LineEnded) and ended.outcome == "media_error"
    assert "not one RTP packet in 5 s after the answer" in str(ended)


def test_the_block_that_holds_the_due_frame_ends_there():
    port = callee(Counts())
    assert port._wanted(0) == BLOCK_FRAMES
    assert port._wanted(DUE - 2) == 2  # taken at frame 250 exactly, not up to 4 frames later
    port.due_at(DUE - 10)  # a timer sooner still comes first
    assert port._wanted(DUE - 12) == 2


def test_one_packet_is_enough_and_nothing_is_asked_after_it():
    call = Counts(1)
    port = callee(call)
    assert port._no_rtp(DUE) is None
    assert port._no_rtp(DUE + 5_000) is None and call.asked == 1
    assert port._wanted(DUE) == BLOCK_FRAMES


def test_a_call_without_a_stream_to_ask_is_left_alone():
    call = Counts(None)
    port = callee(call)
    assert port._no_rtp(DUE) is None and port._no_rtp(DUE + 50) is None
    assert call.asked == 1


def test_zero_turns_the_check_off():
    call = Counts()
    port = callee(call, no_rtp_s=0)
    assert port._no_rtp(10**6) is None and call.asked == 0
    assert port._wanted(DUE - 2) == BLOCK_FRAMES

"""A SIP call's audio port without the network: the call's clock and our playout on it."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.audio.format import FRAME_SAMPLES
from ivr.call.mixer import Mixer
from ivr.call.session import PlacedSpeaker
from ivr.engine import PlayPrompt
from ivr.sip.frames import FramePort
from ivr.transports.sip import SipSpeaker, failed_outcome


class Prompts:
    def __init__(self, frames: int) -> None:
        self.samples = (np.arange(frames * FRAME_SAMPLES) % 2000 + 1).astype(np.int16)
        self.frames = frames

    def get(self, text: str):
        return self


class Call:
    def __init__(self) -> None:
        self.frames = FramePort()


def media_clock(port: FramePort, ticks: int) -> list[bytes]:
    """`ticks` of the media clock: a callee frame in, one of ours out, every 20 ms."""
    out = []
    for _ in range(ticks):
        port.take_frame(bytes(FRAME_SAMPLES * 2))
        out.append(port.next_frame())
    return out


@pytest.mark.parametrize("lead", [0, 1, 7])
def test_a_prompt_ends_on_the_call_clock_its_length_after_its_first_frame_went_out(lead):
    call, prompts, mixer = Call(), Prompts(5), Mixer()
    speaker = PlacedSpeaker(SipSpeaker(call, prompts), mixer)  # as the session drives it
    media_clock(call.frames, lead)
    speaker.play(PlayPrompt("p", "p", lead))
    assert speaker.finished() is None
    sent = media_clock(call.frames, 3)
    assert speaker.finished() is None  # still playing
    sent += media_clock(call.frames, 4)
    assert speaker.finished() == lead + 1 + 5  # taken after the callee's frame `lead`
    assert speaker.finished() is None  # reported once
    ours = np.frombuffer(b"".join(sent), np.int16)
    assert np.array_equal(ours[: 5 * FRAME_SAMPLES], prompts.samples)
    assert not ours[5 * FRAME_SAMPLES :].any()
    [placed] = mixer.placements
    assert (placed.start, placed.end) == (lead + 1, lead + 6)


def test_a_prompt_cut_short_ends_where_it_was_cut():
    call, mixer = Call(), Mixer()
    speaker = PlacedSpeaker(SipSpeaker(call, Prompts(10)), mixer)
    speaker.play(PlayPrompt("p", "p", 0))
    media_clock(call.frames, 4)
    speaker.stop(4)
    assert speaker.finished() == 4
    [placed] = mixer.placements
    assert (placed.start, placed.end) == (1, 4)  # the recording holds what went out
    assert not np.frombuffer(b"".join(media_clock(call.frames, 3)), np.int16).any()


def test_a_lost_frame_is_silence_and_still_counts():
    port = FramePort()
    port.take_frame(None)
    port.take_frame(b"\x01\x00" * FRAME_SAMPLES)
    port.take_frame(b"short")
    assert port.frames_received == 3
    assert [int(f.sum()) for f in port.received] == [0, FRAME_SAMPLES, 0]
    port.restart()
    assert port.frames_received == 0 and not port.received


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(486, "busy"), (600, "busy"), (408, "no_answer"), (480, "no_answer"), (487, "no_answer"),
     (404, "call_failed"), (503, "call_failed"), (None, "unreachable")],
)  # fmt: skip
def test_a_call_that_did_not_get_through_is_named_by_its_sip_status(status, outcome):
    assert failed_outcome(status) == outcome


def test_an_idle_port_says_nothing_and_keeps_nothing():
    from ivr.sip.frames import IdlePort

    port = IdlePort()
    for _ in range(100):
        port.take_frame(bytes(FRAME_SAMPLES * 2))
        assert port.next_frame() == bytes(FRAME_SAMPLES * 2)
    assert not port.received and port.frames_received == 0

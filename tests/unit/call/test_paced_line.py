"""A line that hands the session its frames in blocks (as a SIP call does, ivr.transports.sip):
the session tells it the frame its next timer falls due at, and the call's timers, prompts and
hang-up stay at the frames a line read frame by frame gives them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realcall import bundled
from shared import frames_of
from test_new_transport import MemoryLine, MemorySpeaker

from ivr.audio.format import FRAME_SAMPLES
from ivr.call.replay import CallResult, keep_call
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.sip.frames import FramePort
from ivr.transports.base import CalleeBlock
from ivr.transports.sip import BLOCK_FRAMES, SipCallee
from ivr.tts import PromptCache


class PacedCallee:
    """The callee's port on a line whose media clock runs while the session waits: at each
    20 ms tick our next frame goes out (pulled from the playout buffer), then the callee's
    comes in. The session is handed `block` frames at once, fewer when a timer falls due
    sooner (`due_at`, unless `deaf`) or when our prompt's playout ends (news, as
    ivr.sip.frames wakes the call's thread)."""

    name = "paced memory call"

    def __init__(self, line: MemoryLine, block: int, deaf: bool = False) -> None:
        self.line, self.block, self.deaf = line, block, deaf
        self.due: list[int | None] = []
        self.sizes: list[int] = []
        self._callee = SipCallee(None, None, self.name, no_rtp_s=0)  # its block rule alone
        self._callee.block_frames = block

    def due_at(self, frame: int | None) -> None:
        self.due.append(frame)
        self._callee.due_at(None if self.deaf else frame)

    def blocks(self) -> Iterator[CalleeBlock]:
        frame, line = 0, self.line
        while True:
            wanted, count = self._callee._wanted(frame), 0
            while count < wanted:
                ended_before = line.playout.marks()[1]
                line.send(frame + count)  # tick: ours goes out, then the callee's comes
                count += 1
                if line.playout.marks()[1] != ended_before:
                    break  # our prompt's playout ended: news
            samples = np.zeros((count, FRAME_SAMPLES), np.int16)
            part = line.callee[frame * FRAME_SAMPLES : (frame + count) * FRAME_SAMPLES]
            samples.reshape(-1)[: part.size] = part
            self.sizes.append(count)
            yield CalleeBlock(samples)
            frame += count


def silent_call(block: int, deaf: bool = False) -> tuple[PacedCallee, CallResult]:
    script, prompts = bundled("outbound"), PromptCache()
    prompts.render_all(script.prompts)
    line = MemoryLine(np.zeros(0, np.int16))  # a callee who never says a word
    callee = PacedCallee(line, block, deaf)
    session = CallSession(callee, MemorySpeaker(line, prompts), script, CallSettings())
    session.run()
    return callee, keep_call(session, None, None)


@pytest.mark.parametrize("block", [2, BLOCK_FRAMES, 7, 25])
def test_blocks_keep_every_timer_prompt_and_the_hangup_at_their_frames(block):
    _, by_frame = silent_call(1)
    callee, paced = silent_call(block)
    assert paced.outcome == by_frame.outcome == "no_answer"
    assert paced.timeline == by_frame.timeline
    ends, starts = frames_of(paced, "prompt_finished"), frames_of(paced, "prompt_started")
    # the waits: 3.00 s after each prompt's end, 2.00 s after the closing
    assert [b - a for a, b in zip(ends, starts[1:], strict=False)] == [150, 150, 150]
    assert frames_of(paced, "hangup") == [ends[-1] + 100]
    # the session named each of those frames to the line before the block holding it
    assert {e + 150 for e in ends[:-1]} | {ends[-1] + 100} <= set(callee.due)
    assert max(callee.sizes) == block and len(callee.sizes) < paced.frames / block + 12


def test_without_the_due_frame_a_timer_prompt_would_go_out_late():
    _, by_frame = silent_call(1)
    _, deaf = silent_call(7, deaf=True)
    # the engine asks at the timer's frame either way; the line plays it out only when the
    # block holding that frame is handed over, up to 6 frames later, and so ends later
    assert frames_of(deaf, "prompt_started")[:2] == frames_of(by_frame, "prompt_started")[:2]
    assert frames_of(deaf, "prompt_finished")[1] > frames_of(by_frame, "prompt_finished")[1]


@settings(max_examples=40, deadline=None)
@given(block=st.integers(1, 50), taken=st.integers(0, 10_000), ahead=st.integers(-3, 60))
def test_a_block_ends_at_the_due_frame_or_is_whole(block, taken, ahead):
    callee = SipCallee(None, None, "line", no_rtp_s=0)
    callee.block_frames = block
    callee.due_at(taken + ahead)
    wanted = callee._wanted(taken)
    assert 1 <= wanted <= block
    if ahead >= block:
        assert wanted == block  # nothing falls due inside it: a whole block
    elif ahead >= 1:
        assert wanted == ahead  # the block holding the due frame ends with it, not sooner
    else:
        assert wanted == 1  # already due: the next frame at once
    callee.due_at(None)
    assert callee._wanted(taken) == block


def test_the_calls_thread_is_woken_for_a_block_not_for_each_frame():
    port = FramePort()
    for _ in range(BLOCK_FRAMES - 1):
        port.take_frame(bytes(FRAME_SAMPLES * 2))
        assert not port.ready(BLOCK_FRAMES)
    port.take_frame(bytes(FRAME_SAMPLES * 2))
    assert port.ready(BLOCK_FRAMES)
    frames, _ = port.take()
    assert len(frames) == BLOCK_FRAMES and not port.ready(1)


@pytest.mark.parametrize("news", ["key", "failure", "state", "prompt_end"])
def test_news_wakes_the_calls_thread_before_its_block_is_whole(news):
    port = FramePort()
    if news == "prompt_end":
        port.play(np.ones(2 * FRAME_SAMPLES, np.int16))
    for _ in range(2):
        port.take_frame(bytes(FRAME_SAMPLES * 2))
        port.next_frame()
    assert not port.ready(BLOCK_FRAMES)  # two frames, our prompt still going out
    if news == "key":
        port.key("5")
    elif news == "failure":
        port.fail("receiving audio: boom")
    elif news == "state":
        port.nudge()
    else:
        port.take_frame(bytes(FRAME_SAMPLES * 2))
        port.next_frame()  # the first frame after the prompt: its playout has ended
        assert port.finished_at == 3  # its first 20 ms went out at frame 1
    assert port.ready(BLOCK_FRAMES)
    port.take()
    assert port.ready(BLOCK_FRAMES) == (news == "failure")  # a failure stays until it ends


@pytest.mark.parametrize("delay_ms", [0, 7, 30])
def test_a_frame_is_late_by_how_long_after_its_block_was_complete_it_was_taken(delay_ms):
    from ivr.service.perform import frame_lateness

    arrivals = [100.0 + 0.02 * i for i in range(50)]  # the media clock's 20 ms schedule
    taken = [(n, arrivals[n - 1] + delay_ms / 1000) for n in range(5, 51, 5)]
    _, lates = frame_lateness(arrivals, taken, BLOCK_FRAMES)
    assert lates.size == 50 and lates.max() == pytest.approx(delay_ms / 1000)
    _, held = frame_lateness(arrivals, taken)  # frame by frame: the block's wait counts
    assert held.max() == pytest.approx((delay_ms + 80) / 1000)

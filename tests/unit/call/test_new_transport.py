"""A new transport is one module: a toy in-memory one (the callee's frames from an array, ours
collected frame by frame through the shared `PlayoutBuffer`) runs a whole call through the
real session, with prompts placed to the frame."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from realcall import bundled, prompt_frames
from shared import frames_of

from ivr.audio.format import FRAME_SAMPLES
from ivr.audio.playout import PlayoutBuffer
from ivr.call.replay import keep_call
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.engine.actions import PlayPrompt
from ivr.transports.base import CalleeBlock, PromptNews, PromptSource, prompt_at_volume
from ivr.transports.replay import VirtualSpeaker
from ivr.tts import PromptCache

# --- the transport: what a new module of ivr/transports/ would hold -------------------------


class MemoryLine:
    """A line in memory: the callee says `callee` (int16; silence after it), and every 20 ms
    frame of the call one frame of ours goes out (`sent`), pulled from `playout` on the call's
    clock (frames) as a media thread would."""

    def __init__(self, callee: np.ndarray) -> None:
        self.callee = callee
        self.playout = PlayoutBuffer()
        self.sent: list[np.ndarray] = []

    def send(self, frame: int) -> None:
        out = np.zeros(FRAME_SAMPLES, np.int16)
        self.playout.pull(out, frame, 1 / FRAME_SAMPLES)
        self.sent.append(out)


class MemoryCallee:
    """The callee's port: one frame a block; once the session has handled block `f` (up to
    frame f + 1: what it asks for now, it asks for at f + 1), ours go out up to frame f + 1,
    so a prompt asked for at frame `p` starts at `p`."""

    name = "memory call"

    def __init__(self, line: MemoryLine) -> None:
        self.line = line

    def blocks(self) -> Iterator[CalleeBlock]:
        frame = 0
        while True:
            samples = np.zeros(FRAME_SAMPLES, np.int16)
            part = self.line.callee[frame * FRAME_SAMPLES : (frame + 1) * FRAME_SAMPLES]
            samples[: part.size] = part
            yield CalleeBlock(samples.reshape(1, FRAME_SAMPLES))
            while len(self.line.sent) <= frame + 1:
                self.line.send(len(self.line.sent))
            frame += 1


class MemorySpeaker(PromptNews):
    """Our port: prompts into the line's playout buffer, their playout read back from it (the
    prompt that started and the frame it was cut at go to the session through `PromptNews`)."""

    def __init__(self, line: MemoryLine, prompts: PromptSource) -> None:
        self.line, self.prompts = line, prompts
        self._samples: np.ndarray | None = None
        self._playing = self._stopped = False

    def play(self, prompt: PlayPrompt) -> None:
        self._samples = prompt_at_volume(self.prompts, prompt)
        self._playing, self._stopped = True, False
        self.line.playout.play(self._samples)

    def stop(self, frame: int) -> None:
        self._stopped = True
        self.line.playout.stop(len(self.line.sent))

    def finished(self) -> int | None:
        started, finished = self.line.playout.marks()
        if self._samples is not None and started is not None:
            self._started, self._samples = (round(started), self._samples), None
        if self._playing and finished is not None:
            self._playing = False
            if self._stopped:
                self._cut = round(finished)
            return round(finished)
        return None


# --- the test -------------------------------------------------------------------------------


def test_a_toy_transport_runs_a_call_end_to_end_with_prompts_to_the_frame(tmp_path):
    script, prompts = bundled("outbound"), PromptCache()
    rendered = prompts.render_all(script.prompts)
    line = MemoryLine(np.zeros(0, np.int16))  # a callee who never says a word
    session = CallSession(MemoryCallee(line), MemorySpeaker(line, prompts), script, CallSettings())
    session.record(tmp_path / "call.wav")
    result = keep_call(session, tmp_path / "call.wav", None)

    assert result.outcome == "no_answer", result.summary()
    assert result.prompts == ["opening", "hello_again", "connected", "closing_no_sound"]
    starts, ends = frames_of(result, "prompt_started"), frames_of(result, "prompt_finished")
    lengths = prompt_frames("outbound")
    assert starts[0] == 0
    assert [b - a for a, b in zip(starts, ends, strict=True)] == [
        lengths[p] for p in result.prompts
    ]
    assert [b - a for a, b in zip(ends, starts[1:], strict=False)] == [150, 150, 150]
    assert frames_of(result, "hangup") == [ends[-1] + 100] == [result.frames]
    # what went out on the line is each prompt at the frames the timeline says
    sent = np.concatenate(line.sent)
    for start, prompt in zip(starts, result.prompts, strict=True):
        audio = rendered[prompt].samples
        assert np.array_equal(
            sent[start * FRAME_SAMPLES : start * FRAME_SAMPLES + audio.size], audio
        )

    # the same call replayed on the virtual speaker: the same timeline
    again = MemoryLine(np.zeros(0, np.int16))
    replayed = CallSession(MemoryCallee(again), VirtualSpeaker(prompts), script, CallSettings())
    replayed.run()
    assert keep_call(replayed, None, None).timeline == result.timeline

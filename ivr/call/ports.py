"""The two audio ports of a call: where the callee's audio comes from, where ours goes.

A call runner (ivr.call.runner) does not care whether the callee is a file, a microphone or a
telephone line: it reads blocks of callee frames from a `CalleeAudio` port and hands our
prompts to an `OurAudio` port, which reports back the frame each prompt finished playing out
(the no-input timer starts there, never while we speak). Frames are 20 ms frame boundaries
counted from the start of the call's audio.

This module holds the ports of replay (a recording, then silence; a virtual speaker that plays
out instantly in audio time) and of the tuner (prompt lengths only).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.audio.source import FileSource
from ivr.call.mixer import Mixer
from ivr.engine.actions import PlayPrompt
from ivr.events import InputEvent


@dataclass(frozen=True, slots=True)
class CalleeBlock:
    """Callee frames in order: `samples` (n, 320) int16, following the previous block; and the
    inputs that did not come from this audio (a DTMF key sent out of band), each with its own
    frame inside or before the block."""

    samples: np.ndarray
    inputs: tuple[InputEvent, ...] = ()


class CalleeAudio(Protocol):
    """The callee's side: blocks of frames in order, until the call ends (the runner stops
    reading). Raising DeviceError ends the call as `device_error`, KeyboardInterrupt as
    `aborted`."""

    name: str
    """The call's name in summaries."""

    def blocks(self) -> Iterator[CalleeBlock]: ...


class PromptAudioLike(Protocol):
    """A rendered prompt: int16 samples padded to whole frames, and their count of frames."""

    samples: np.ndarray
    frames: int


class PromptSource(Protocol):
    """Where prompt audio comes from (the prompt cache)."""

    def get(self, text: str) -> PromptAudioLike: ...


def prompt_at_volume(prompts: PromptSource, prompt: PlayPrompt) -> np.ndarray:
    """`prompt` rendered, at its volume (`volume_db` relative to the rendering, dB), as the
    int16 samples a real line plays (clipped)."""
    audio = prompts.get(prompt.text)
    gain = np.float32(10 ** (prompt.volume_db / 20))
    return np.clip(np.rint(audio.samples * gain), -32768, 32767).astype(np.int16)


class OurAudio(Protocol):
    """Our side: prompts out, and the frame each finished playing out, once known."""

    def play(self, prompt: PlayPrompt) -> None:
        """Start playing `prompt` (its text rendered) at its frame, at its volume."""

    def stop(self, frame: int) -> None:
        """Cut the prompt playing at `frame` (barge-in)."""

    def finished(self) -> int | None:
        """The frame the prompt last played finished playing out, once known (None while it
        plays, or when none plays); reported once per prompt."""


class FileCallee:
    """A recording as the callee: its blocks, then digital silence for as long as asked."""

    def __init__(self, source: FileSource) -> None:
        self.source = source
        self.name = source.name

    def blocks(self) -> Iterator[CalleeBlock]:
        for samples in self.source.blocks():
            yield CalleeBlock(samples)
        # as many frames a block as the recording's (the session listens only up to a hang-up
        # it knows is coming)
        frames = self.source.block_frames
        silence = CalleeBlock(np.zeros((frames, FRAME_SAMPLES), dtype=np.int16))
        while True:
            yield silence


class VirtualSpeaker:
    """Our prompts placed in audio time: a prompt finishes playing out exactly its length after
    it started (no device latency). `mixer` holds what was played, for the recording and the
    echo check."""

    def __init__(self, prompts: PromptSource) -> None:
        self.prompts = prompts
        self.mixer = Mixer()
        self._until: int | None = None

    def play(self, prompt: PlayPrompt) -> None:
        audio = self.prompts.get(prompt.text)
        self._until = self.mixer.play(prompt.frame, audio.samples, prompt.volume_db)

    def stop(self, frame: int) -> None:
        self.mixer.stop(frame)
        self._until = None

    def finished(self) -> int | None:
        until, self._until = self._until, None
        return until


class PromptLengths:
    """Our side when only the prompts' lengths matter (the tuner): no audio at all."""

    def __init__(self, frames: Mapping[str, int]) -> None:
        self.frames = frames
        """Prompt text -> its rendered length (frames)."""
        self._until: int | None = None

    def play(self, prompt: PlayPrompt) -> None:
        self._until = prompt.frame + self.frames[prompt.text]

    def stop(self, frame: int) -> None:
        self._until = None

    def finished(self) -> int | None:
        until, self._until = self._until, None
        return until

"""Replay's ports: a recording as the callee (then silence), a virtual speaker that plays out
instantly in audio time; and the tuner's, prompt lengths only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.audio.source import FileSource
from ivr.engine.actions import PlayPrompt
from ivr.transports.base import CalleeBlock, PromptNews, PromptSource, prompt_at_volume


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


class VirtualSpeaker(PromptNews):
    """Our prompts placed in audio time: a prompt starts playing out at the frame it is asked
    for and finishes exactly its length later (no device latency); a cut is where it is
    asked for."""

    def __init__(self, prompts: PromptSource) -> None:
        self.prompts = prompts
        self._until: int | None = None
        self._started: tuple[int, np.ndarray] | None = None
        self._cut: int | None = None

    def play(self, prompt: PlayPrompt) -> None:
        samples = prompt_at_volume(self.prompts, prompt)
        self._started = (prompt.frame, samples)
        self._until = prompt.frame + samples.shape[0] // FRAME_SAMPLES

    def stop(self, frame: int) -> None:
        self._cut, self._until = frame, None

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

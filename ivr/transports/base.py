"""The two audio ports of a call: where the callee's audio comes from, where ours goes.

A call runner (ivr.call.runner) does not care whether the callee is a file, a microphone or a
telephone line: it reads blocks of callee frames from a `CalleeAudio` port and hands our
prompts to an `OurAudio` port, which reports back the frame each prompt finished playing out
(the no-input timer starts there, never while we speak). Frames are 20 ms frame boundaries
counted from the start of the call's audio.

A transport is one module of this package: its two ports. Our side of it is a `Speaker`: it
plays each prompt as `prompt_at_volume` renders it (int16 at the prompt's volume, as the line
plays it) and tells the session when it started playing out and where it was cut, so the
session places exactly what was played in its mixer (the recording, the echo check). A
transport whose audio goes out on another thread (a sound card's callback, a media clock)
hands it over through a `PlayoutBuffer` (ivr.audio.playout).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

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
    reading). Raising DeviceError ends the call as `device_error`, LineEnded with the line's
    outcome (`media_error` when the line's media thread failed), KeyboardInterrupt as
    `aborted`."""

    name: str
    """The call's name in summaries."""

    def blocks(self) -> Iterator[CalleeBlock]: ...


class PacedCallee(CalleeAudio, Protocol):
    """A callee's side that waits for a block of frames to come before handing it over (a
    telephone line): before each block the session tells it the frame count its next timer
    falls due at, so the block holding that frame comes as soon as that frame has."""

    def due_at(self, frame: int | None) -> None: ...


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


class PromptNews:
    """A speaker's news for the session, each given once: the prompt that started (`_started`:
    its frame and samples) and the frame a prompt was cut at (`_cut`). The speaker sets them;
    `started` and `cut` hand them over and clear them."""

    _started: tuple[int, np.ndarray] | None = None
    _cut: int | None = None

    def started(self) -> tuple[int, np.ndarray] | None:
        started, self._started = self._started, None
        return started

    def cut(self) -> int | None:
        cut, self._cut = self._cut, None
        return cut


class Speaker(OurAudio, Protocol):
    """Our side of a transport, as a session uses it: besides `OurAudio`, what it learned of
    the prompt's playout in its last call (`play`, `stop` or `finished`), each reported once."""

    def started(self) -> tuple[int, np.ndarray] | None:
        """The frame the prompt began to play out at and its samples as played (int16, at its
        volume: `prompt_at_volume`), once known."""

    def cut(self) -> int | None:
        """The frame a prompt that was stopped stopped playing out at, once known."""

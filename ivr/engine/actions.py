"""What the dialog engine asks of the session: play a prompt, stop it, hang up.

Frames are 20 ms frame boundaries counted from the start of the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.audio.format import frames_to_seconds


@dataclass(frozen=True)
class PlayPrompt:
    """Start playing prompt `prompt` (text `text`) at `frame`, `volume_db` relative to its
    rendering (dB). The session answers with `Engine.on_playback_finished` at the frame its
    last sample has been played out."""

    prompt: str
    text: str
    frame: int
    volume_db: float = 0.0


@dataclass(frozen=True)
class StopPrompt:
    """Cut the prompt playing now at `frame` (barge-in)."""

    frame: int


@dataclass(frozen=True)
class HangUp:
    """The engine's action: end the call at `frame` with `outcome`; `reason` says which event
    led there. (The script's `hangup:` is a `HangupAction`; the timeline records `HungUp`.)"""

    frame: int
    outcome: str
    """An `Outcome` the engine or the session decides, or the label of the script's hang-up."""
    reason: str

    @property
    def time_s(self) -> float:
        """When (s)."""
        return frames_to_seconds(self.frame)


EngineAction = PlayPrompt | StopPrompt | HangUp

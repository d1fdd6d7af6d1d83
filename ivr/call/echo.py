"""Barge-in against our own echo: the microphone hears the prompt we are playing.

While a prompt plays, speech counts as barge-in only if it is louder than our echo by
`echo_margin_db`. The echo is judged against what we are playing: its coupling (the level heard
minus the level played, in dB) is measured over the prompt's first ECHO_LEARN_FRAMES, and each
frame is compared with the level played just before it, plus that coupling. Both new speech
segments and a rise inside speech that is already going on (the echo itself is speech to the
VAD) can be barge-in.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.call.mixer import Mixer
from ivr.call.recognition import AudioRing
from ivr.call_settings import EchoSettings
from ivr.detect.frontend import BlockResult
from ivr.detect.level import frame_powers, power_to_dbfs
from ivr.engine import Engine
from ivr.events import SpeechStarted
from ivr.timeline import EchoIgnored, Timeline

ECHO_LEARN_FRAMES = 15
"""Frames at a prompt's start (300 ms) spent measuring our own echo: no barge-in before."""

ECHO_DELAY_FRAMES = 4
"""Frames (80 ms) our prompt may take to come back to the microphone."""

ECHO_AUDIBLE_DBFS = -50.0
"""Played frames above this level (dBFS) are used to measure the echo's coupling."""


class EchoGuard:
    """Tells the callee's barge-in from our own echo, over a session's audio ring and mixer;
    speech taken for echo goes on `timeline` (`echo_ignored`)."""

    def __init__(
        self, ring: AudioRing, mixer: Mixer, settings: EchoSettings, timeline: Timeline
    ) -> None:
        self._ring = ring
        self._timeline = timeline
        self._mixer = mixer
        self.settings = settings

    def _levels(self, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Frame levels (dBFS) over [first, stop): what we heard, and what we were playing,
        the latter as the loudest of the last ECHO_DELAY_FRAMES (the echo arrives late)."""
        heard = power_to_dbfs(frame_powers(self._ring.get(first, stop)))
        lead = min(ECHO_DELAY_FRAMES, first)
        ours = self._mixer.mix(first - lead, stop - first + lead).reshape(-1, FRAME_SAMPLES)
        played = power_to_dbfs(frame_powers(ours))
        windows = np.lib.stride_tricks.sliding_window_view(played, lead + 1)
        return heard, windows.max(axis=1)[: heard.size]

    def _coupling_db(self, before: int) -> float | None:
        """How much of our prompt comes back (dB: heard minus played), measured from the
        prompt's start to frame `before`; None until ECHO_LEARN_FRAMES of it were heard."""
        started = max(self._mixer.last_start(), self._ring.start)
        if before - started < ECHO_LEARN_FRAMES:
            return None
        heard, played = self._levels(started, before)
        audible = played > ECHO_AUDIBLE_DBFS
        if audible.sum() < ECHO_LEARN_FRAMES // 2:
            return None
        return float(np.median(heard[audible] - played[audible]))

    def _louder_than_echo(self, first: int, stop: int, coupling: float) -> np.ndarray:
        heard, played = self._levels(first, stop)
        return heard >= np.maximum(played + coupling, -100.0) + self.settings.echo_margin_db

    def is_echo(self, event: SpeechStarted, engine: Engine) -> bool:
        """Speech starting while a barge-in prompt plays that is only our own echo."""
        if not engine.barge_in_possible():
            return False
        coupling = self._coupling_db(event.frame)
        if coupling is not None:
            louder = self._louder_than_echo(event.frame, event.decided_frame, coupling)
            if louder.size and louder.mean() >= 0.5:
                return False
        self._timeline.add(EchoIgnored(event.decided_frame, coupling_db=coupling))
        return True

    def rises(self, result: BlockResult, onset: int, engine: Engine) -> list[SpeechStarted]:
        """Barge-in over our own echo: inside speech going on while a barge-in prompt plays,
        `onset` voiced frames in a row louder than the echo by echo_margin_db."""
        if not engine.barge_in_possible():
            return []
        coupling = self._coupling_db(result.base)
        if coupling is None:
            return []
        stop = result.base + result.voiced.shape[0]
        loud = result.voiced & self._louder_than_echo(result.base, stop, coupling)
        run = 0
        for i, on in enumerate(loud.tolist()):
            run = run + 1 if on else 0
            if run == onset:
                first = result.base + i - onset + 1
                return [SpeechStarted(first, first + onset)]
        return []

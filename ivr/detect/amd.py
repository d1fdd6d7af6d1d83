"""Answering-machine detection: Asterisk AMD's algorithm on our 20 ms frames.

Asterisk's `app_amd.c` (AMD(), its documented parameters and defaults) decides from the
lengths of the words and silences at the start of an answered call: a human says a short
greeting ("喂?") and waits; a machine's greeting talks on, in many words or for long, or starts
with a long silence. Frame by frame (`voice` from the front end: a frame webrtcvad calls voiced,
that is no telephone tone, and whose level is above `amd.silence_threshold_dbfs`):

- silence: a run of silence of `between_words_silence_ms` ends a word; a silence of
  `initial_silence_ms` before any word is MACHINE (INITIALSILENCE); a silence of
  `after_greeting_silence_ms` after the greeting began is HUMAN;
- voice: `min_word_length_ms` of consecutive voice after a silence is a word; more than
  `maximum_number_of_words` words is MACHINE (MAXWORDS), a word of `maximum_word_length_ms` is
  MACHINE (MAXWORDLENGTH), voice adding up to `greeting_ms` once the greeting began is MACHINE
  (LONGGREETING);
- after `total_analysis_time_ms` with none of these, NOTSURE (TOOLONG).

The verdict is decided at the frame the rule fires on and is reported once, as a
MachineVerdict; the detector then stops (it costs nothing for the rest of the call).
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_MS
from ivr.call_settings import AmdSettings
from ivr.events import MachineVerdict


class AnsweringMachineDetector:
    """Asterisk AMD's state machine over the voice flags of 20 ms frames, from frame 0 (the
    answer)."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.settings = s = settings or AmdSettings()
        self.verdict: MachineVerdict | None = None
        """The verdict once decided."""
        self._frame = 0
        self._in_initial_silence = True
        self._in_greeting = False
        self._in_word = False  # Asterisk's currentState == STATE_IN_WORD
        self._voice_ms = 0  # voice in all (ms)
        self._consecutive_voice_ms = 0
        self._silence_ms = 0  # the run of silence up to this frame (ms)
        self._words = 0
        self._limits = (
            s.between_words_silence_ms,
            s.initial_silence_ms,
            s.after_greeting_silence_ms,
            s.min_word_length_ms,
            s.maximum_word_length_ms,
            s.maximum_number_of_words,
            s.greeting_ms,
            s.total_analysis_time_ms,
        )

    @property
    def done(self) -> bool:
        """Whether the verdict has been given."""
        return self.verdict is not None

    def process(self, voice: np.ndarray) -> list[MachineVerdict]:
        """The next frames' voice flags (True: voice); the verdict if it was decided in them."""
        if self.verdict is not None:
            return []
        (between, initial, after_greeting, min_word, max_word, max_words, greeting, total) = (
            self._limits
        )
        for flag in voice.tolist():
            self._frame += 1
            elapsed_ms = self._frame * FRAME_MS
            if elapsed_ms >= total:
                return self._decide("notsure", f"TOOLONG-{elapsed_ms}")
            if not flag:
                self._silence_ms += FRAME_MS
                silence = self._silence_ms
                if silence >= between:
                    self._in_word = False
                    self._consecutive_voice_ms = 0
                if self._in_initial_silence and silence >= initial:
                    return self._decide("machine", f"INITIALSILENCE-{silence}-{initial}")
                if self._in_greeting and silence >= after_greeting:
                    return self._decide("human", f"HUMAN-{silence}-{after_greeting}")
                continue
            self._consecutive_voice_ms += FRAME_MS
            self._voice_ms += FRAME_MS
            run = self._consecutive_voice_ms
            if run >= min_word and not self._in_word:
                self._words += 1
                self._in_word = True
            if run >= max_word:
                return self._decide("machine", f"MAXWORDLENGTH-{run}")
            if self._words > max_words:
                return self._decide("machine", f"MAXWORDS-{self._words}-{max_words}")
            if self._in_greeting and self._voice_ms >= greeting:
                return self._decide("machine", f"LONGGREETING-{self._voice_ms}-{greeting}")
            self._silence_ms = 0  # Asterisk's silence detector counts consecutive silence
            if run >= min_word and not self._in_greeting:
                self._in_initial_silence = False
                self._in_greeting = True
        return []

    def _decide(self, verdict: str, cause: str) -> list[MachineVerdict]:
        self.verdict = MachineVerdict(verdict, cause, self._frame)
        return [self.verdict]

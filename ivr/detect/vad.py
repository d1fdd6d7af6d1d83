"""Voice activity: webrtcvad decisions per frame, smoothed into speech segments.

webrtcvad says voiced / unvoiced for each 20 ms frame. The segmenter turns that into speech
that a person would count: it starts once `onset_ms` (100 ms, the minimum word length of
Asterisk's AMD) of voiced audio clearly above the noise floor has been heard, and ends after
`hangover_ms` of unvoiced audio (a pause between words is not the end). A click, a pop or a
knock is voiced to webrtcvad, which then keeps saying voiced for 60-100 ms of quiet line (its
own overhang): only the loud frames count, so an impulse shorter than a word never starts
speech, and no segment is shorter than `onset_ms` after its edges are refined. How an onset is
counted and decided, and confirmed by the learned stage, is ivr.detect.onset; how loud each
segment is, and the SpeechProgress sent while it lasts, is measured by ivr.detect.segment_level
(the constants of both are importable from here too); the dropouts a segment holds come from
ivr.detect.dropouts. Work is done per run of equal decisions, not per frame, so it costs
little.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, SILENCE_DBFS, ms_to_frames
from ivr.detect.learned import LearnedSpeech
from ivr.detect.onset import (
    LOUD_VOICE_DBFS,
    ONSET_BREAK_FRAMES,
    ONSET_VOICED_FRAMES,
    PENDING_FRAMES,
    STREAM_IDLE_FRAMES,
    VOICING_STEP_FRAMES,
    OnsetCounter,
)
from ivr.detect.segment_level import (
    FLOOR_SETTLED_MS,
    MIN_SNR_DB,
    PEAK_MS,
    PEAK_RISE,
    PEAK_RISE_DB,
    PROGRESS_MS,
)
from ivr.detect.settings import VadSettings
from ivr.detect.voice_activity import runs
from ivr.events import DetectorEvent, Segment, SpeechEnded, SpeechStarted

__all__ = [
    "EDGE_SHIFT_MS",
    "FLOOR_SETTLED_MS",
    "LOUD_VOICE_DBFS",
    "MIN_SNR_DB",
    "ONSET_BREAK_FRAMES",
    "ONSET_VOICED_FRAMES",
    "PEAK_MS",
    "PEAK_RISE",
    "PEAK_RISE_DB",
    "PENDING_FRAMES",
    "PROGRESS_MS",
    "STREAM_IDLE_FRAMES",
    "VOICING_STEP_FRAMES",
    "SpeechSegmenter",
]

EDGE_SHIFT_MS = 160
"""Furthest a segment edge is moved by level (ms); see VadSettings.edge_margin_db."""


class SpeechSegmenter(OnsetCounter):
    """Onset and hangover smoothing of per-frame voiced decisions into speech segments.

    A segment starts at the first counted frame of a candidate and is decided once the
    candidate holds `onset` frames that are voiced and at least edge_margin_db above the floor,
    with no ONSET_BREAK_FRAMES in a row that are not; it ends after its last voiced frame once
    `hangover` unvoiced frames follow. Its edges are then refined by level
    (VadSettings.edge_margin_db). Each segment is measured as it goes (ivr.detect.segment_level).
    """

    def __init__(
        self,
        settings: VadSettings,
        warmup_frames: int = 0,
        learned: LearnedSpeech | None = None,
    ) -> None:
        super().__init__()
        self.learned = learned
        """The learned stage that confirms each onset (None: webrtcvad's rules alone); it is
        given every block's frames by the front end before they are fed here."""
        self.warmup = warmup_frames
        """Frames at the start before the noise floor has its first estimate: none of them
        counts towards an onset (against no floor everything is loud)."""
        self.onset = max(1, ms_to_frames(settings.onset_ms))
        self._voiced_need = min(ONSET_VOICED_FRAMES, self.onset)  # a 20 ms onset: its frame
        self.hangover = max(1, ms_to_frames(settings.hangover_ms))
        self.edge_margin_db = settings.edge_margin_db
        self.edge_shift = ms_to_frames(EDGE_SHIFT_MS) if settings.edge_margin_db > 0 else 0
        # Frames of level-above-floor kept for edge refinement; lookups never reach further
        # back than this from the deciding frame, so results do not depend on chunking.
        self.history = self.hangover + 4 * self.onset + 2 * self.edge_shift + 16
        self.in_speech = False
        self._last_voiced = -(10**9)  # absolute index of the latest voiced frame
        self._prev_end = 0  # end of the previous segment: a start never moves before it
        self._cand_start: int | None = None  # first counted frame of an onset candidate
        self._cand_loud = 0  # frames of the candidate that count towards the onset
        self._cand_voiced = 0  # voiced frames of the candidate, their power and floor
        self._cand_floor = 0
        self._cand_power = 0.0
        self._cand_peak = 0.0  # the loudest PEAK_MS ending at one of its voiced frames
        self._quiet_run = ONSET_BREAK_FRAMES  # frames since the last one that counted
        self._voiced_from = 0  # first frame of the voiced stretch going on
        self._cand_voicing: list[int] = []  # kinds of its last counted frames
        self._audio: np.ndarray | None = None  # the block's frames while it is processed
        self._previous_frame = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        self._cand_from = 0  # where a segment decided from the candidate starts
        self._levels = np.zeros(0, dtype=np.float32)  # frame levels (dBFS), recent frames
        self._levels_base = 0  # absolute index of _levels[0]
        self._start_floor = SILENCE_DBFS  # the floor when the open segment was decided (dBFS)
        self._pending: tuple[int, int] | None = None  # a decided candidate the learned stage
        # has not confirmed yet: (first frame not in its sums, or -1: the next voiced run's
        # first; the frame the rules decided it at)
        self._rejected_at = 0  # where the last pending candidate was dropped
        self._vetoing = False  # a candidate was dropped: frames count where it hears speech

    def feed(
        self,
        base: int,
        flags: np.ndarray,
        powers: np.ndarray,
        levels_db: np.ndarray,
        floor_db: np.ndarray,
        audio: np.ndarray | None = None,
        dropouts: list[int] | None = None,
    ) -> tuple[list[DetectorEvent], np.ndarray]:
        """Process a block starting at absolute frame `base`.

        `flags` are the voiced decisions, `powers` the frame powers (full scale = 1),
        `levels_db` the same in dBFS and `floor_db` the noise floor in force at each frame
        (dBFS), `audio` the (n, 320) frames themselves (for voicing; None: every loud frame is
        taken as voiced), `dropouts` the frames at which a dropout of the line ended
        (ivr.detect.dropouts), counted in the segment open there. Returns the events decided
        in this block and the speech decision per frame as known at that frame (bool array).
        """
        n = flags.shape[0]
        self._audio = audio
        if self._dropouts and not self.in_speech:  # only those a segment may still hold
            self._dropouts = [f for f in self._dropouts if f >= base - self.history]
        if dropouts:
            self._dropouts += dropouts
        speech = np.zeros(n, dtype=bool)
        events: list[DetectorEvent] = []
        if not n:
            return events, speech
        self._levels = np.concatenate((self._levels, levels_db))
        if self.edge_margin_db > 0:
            loud = levels_db >= floor_db + np.float32(self.edge_margin_db)
        else:
            loud = np.ones(n, dtype=bool)
        if base < self.warmup:
            loud[: self.warmup - base] = False
        self._measure_block(powers, loud, floor_db)
        open_at = 0 if self.in_speech else None
        for start, end, voiced in zip(*runs(flags), strict=True):
            a, b = base + start, base + end
            if voiced:
                if self.in_speech:
                    self._add_run(events, base, start, end)
                else:
                    if a != self._last_voiced + 1:
                        self._voiced_from = a
                    hit = self._onset(base, start, end, loud)
                    if hit is not None:
                        decided, first = hit
                        assert self._cand_start is not None
                        self.in_speech = True
                        self._start_floor = float(floor_db[decided - 1 - base])
                        self._open_segment(
                            self._extend_start(self._cand_from, decided),
                            decided,
                            self._cand_voiced,
                            self._cand_loud,
                            self._cand_power,
                            self._cand_floor,
                            self._cand_peak,
                        )
                        self._cand_start = None
                        events.append(SpeechStarted(self._seg_start, decided))
                        open_at = decided - 1 - base
                        self._add_run(events, base, first - base, end, opened=decided)
                self._last_voiced = b - 1
                self._floor_at_last = float(floor_db[end - 1])
            elif not self.in_speech:
                self._quiet_run += end - start
                quiet_for = b - (self._last_voiced + 1)
                if quiet_for >= ONSET_BREAK_FRAMES:
                    self._pending = None  # its run broke: the candidate is gone
                if quiet_for >= STREAM_IDLE_FRAMES and self.learned is not None:
                    self.learned.stop()  # webrtcvad heard nothing for long: a new stream
                    self._vetoing = False
                if self._quiet_run >= ONSET_BREAK_FRAMES:
                    self._cand_start = None
            elif b - (self._last_voiced + 1) >= self.hangover:
                decided = self._last_voiced + 1 + self.hangover
                self._progress_until(events, decided - 1, base, None)
                events.append(SpeechEnded(self._close(decided), decided))
                speech[open_at : decided - 1 - base] = True
                open_at = None
            else:
                self._progress_until(events, b, base, None)
        if open_at is not None:
            speech[open_at:] = True
        if audio is not None:
            self._previous_frame = audio[-1].copy()
        self._audio = None
        keep = min(self.history, self._levels.shape[0])
        self._levels_base += self._levels.shape[0] - keep
        self._levels = self._levels[self._levels.shape[0] - keep :]
        return events, speech

    def finish(self, total_frames: int) -> list[DetectorEvent]:
        """End of audio: close a segment still open. `total_frames` is the audio's length."""
        if not self.in_speech:
            return []
        return [SpeechEnded(self._close(total_frames), total_frames)]

    def _level_at(self, frame: int) -> float:
        return float(self._levels[frame - self._levels_base])

    def _extend_start(self, start: int, decided: int) -> int:
        """Move a start back over frames clearly above the floor (a soft onset)."""
        threshold = self._start_floor + self.edge_margin_db
        lowest = max(
            start - self.edge_shift, self._prev_end, decided - self.history, self._levels_base
        )
        while start > lowest and self._level_at(start - 1) >= threshold:
            start -= 1
        return start

    def _trim_end(self, last: int, decided: int) -> int:
        """End after the last frame clearly above the floor (drops webrtcvad's overhang).

        The floor is the lower of the one before the segment and the one at its end: inside
        long speech the floor estimate creeps up towards the speech.
        """
        threshold = min(self._start_floor, self._floor_at_last) + self.edge_margin_db
        lowest = max(
            last - self.edge_shift, self._seg_start, decided - self.history, self._levels_base
        )
        while last > lowest and self._level_at(last) < threshold:
            last -= 1
        return last + 1

    def _close(self, decided: int) -> Segment:
        self.in_speech = False
        self._cand_start = None
        end = self._trim_end(self._last_voiced, decided)
        self._prev_end = end
        return self._segment_until(end)

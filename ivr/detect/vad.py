"""Voice activity: webrtcvad decisions per frame, smoothed into speech segments.

webrtcvad says voiced / unvoiced for each 20 ms frame. The segmenter turns that into speech
that a person would count: it starts once `onset_ms` (100 ms, the minimum word length of
Asterisk's AMD) of voiced audio clearly above the noise floor has been heard, and ends after
`hangover_ms` of unvoiced audio (a pause between words is not the end). A click, a pop or a
knock is voiced to webrtcvad, which then keeps saying voiced for 60-100 ms of quiet line (its
own overhang): only the loud frames count, so an impulse shorter than a word never starts
speech, and no segment is shorter than `onset_ms` after its edges are refined. How an onset is
counted and decided, and confirmed by the learned stage, is ivr.detect.onset's counter; how loud
each segment is, and the SpeechProgress sent while it lasts, is measured by
ivr.detect.segment_level's meter (the segmenter holds one of each; the constants of both are
importable from here too); the dropouts a segment holds come from
ivr.detect.dropouts. Work is done per run of equal decisions, not per frame, so it costs
little.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import SILENCE_DBFS, ms_to_frames
from ivr.call_settings import VadSettings
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
    RecentLevels,
    SegmentLevelMeter,
)
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


class SpeechSegmenter:
    """Onset and hangover smoothing of per-frame voiced decisions into speech segments.

    A segment starts at the first counted frame of a candidate and is decided once the
    candidate holds `onset` frames that are voiced and at least edge_margin_db above the floor,
    with no ONSET_BREAK_FRAMES in a row that are not; it ends after its last voiced frame once
    `hangover` unvoiced frames follow. Its edges are then refined by level
    (VadSettings.edge_margin_db). It holds its parts: the onset counter (ivr.detect.onset),
    the level meter that measures each segment as it goes (ivr.detect.segment_level) and the
    recent frame levels both read.
    """

    def __init__(
        self,
        settings: VadSettings,
        warmup_frames: int = 0,
        learned: LearnedSpeech | None = None,
    ) -> None:
        self.warmup = warmup_frames
        """Frames at the start before the noise floor has its first estimate: none of them
        counts towards an onset (against no floor everything is loud)."""
        self.onset = max(1, ms_to_frames(settings.onset_ms))
        self.hangover = max(1, ms_to_frames(settings.hangover_ms))
        self.edge_margin_db = settings.edge_margin_db
        self.edge_shift = ms_to_frames(EDGE_SHIFT_MS) if settings.edge_margin_db > 0 else 0
        # Frames of level-above-floor kept for edge refinement; lookups never reach further
        # back than this from the deciding frame, so results do not depend on chunking.
        self.history = self.hangover + 4 * self.onset + 2 * self.edge_shift + 16
        self.levels = RecentLevels()
        """The frame levels (dBFS) of the last `history` frames."""
        self.meter = SegmentLevelMeter()
        """The measure of the open segment."""
        self.onsets = OnsetCounter(self.onset, self.edge_shift, learned, self.meter, self.levels)
        """The onset candidate and its decision; its learned stage (None: webrtcvad's rules
        alone) is given every block's frames by the front end before they are fed here."""
        self.in_speech = False
        self._last_voiced = -(10**9)  # absolute index of the latest voiced frame
        self._prev_end = 0  # end of the previous segment: a start never moves before it
        self._start_floor = SILENCE_DBFS  # the floor when the open segment was decided (dBFS)

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
        meter = self.meter
        self.onsets.begin_block(audio)
        if meter.dropouts and not self.in_speech:  # only those a segment may still hold
            meter.dropouts = [f for f in meter.dropouts if f >= base - self.history]
        if dropouts:
            meter.dropouts += dropouts
        speech = np.zeros(n, dtype=bool)
        events: list[DetectorEvent] = []
        if not n:
            return events, speech
        self.levels.add(levels_db)
        loud = self._loud(base, levels_db, floor_db)
        meter.measure_block(powers, loud, floor_db)
        open_at = 0 if self.in_speech else None
        for start, end, voiced in zip(*runs(flags), strict=True):
            b = base + end
            if voiced:
                if self.in_speech:
                    meter.add_run(events, base, start, end)
                else:
                    opened = self._run_outside(events, base, start, end, loud, floor_db)
                    open_at = open_at if opened is None else opened
                self._last_voiced = b - 1
                meter.floor_at_last = float(floor_db[end - 1])
            elif not self.in_speech:
                self.onsets.unvoiced(end - start, b - (self._last_voiced + 1))
            elif b - (self._last_voiced + 1) >= self.hangover:
                decided = self._last_voiced + 1 + self.hangover
                meter.progress_until(events, decided - 1, base, None)
                events.append(SpeechEnded(self._close(decided), decided))
                speech[open_at : decided - 1 - base] = True
                open_at = None
            else:
                meter.progress_until(events, b, base, None)
        if open_at is not None:
            speech[open_at:] = True
        self.onsets.end_block()
        self.levels.keep(self.history)
        return events, speech

    def _loud(self, base: int, levels_db: np.ndarray, floor_db: np.ndarray) -> np.ndarray:
        """The block's frames edge_margin_db above the floor (all with no margin), none of
        the warm-up."""
        if self.edge_margin_db > 0:
            loud = levels_db >= floor_db + np.float32(self.edge_margin_db)
        else:
            loud = np.ones(levels_db.shape[0], dtype=bool)
        if base < self.warmup:
            loud[: self.warmup - base] = False
        return loud

    def _run_outside(
        self,
        events: list[DetectorEvent],
        base: int,
        start: int,
        end: int,
        loud: np.ndarray,
        floor_db: np.ndarray,
    ) -> int | None:
        """A voiced run [start, end) of the block outside speech, counted towards an onset:
        the block index from which the segment it opens is speech, or None."""
        if base + start != self._last_voiced + 1:
            self.onsets.voiced_from = base + start
        hit = self.onsets.onset_in(base, start, end, loud)
        if hit is None:
            return None
        decided, first = hit
        self._open(decided, float(floor_db[decided - 1 - base]))
        events.append(SpeechStarted(self.meter.seg_start, decided))
        self.meter.add_run(events, base, first - base, end, opened=decided)
        return decided - 1 - base

    def finish(self, total_frames: int) -> list[DetectorEvent]:
        """End of audio: close a segment still open. `total_frames` is the audio's length."""
        if not self.in_speech:
            return []
        return [SpeechEnded(self._close(total_frames), total_frames)]

    def _open(self, decided: int, floor_dbfs: float) -> None:
        """Open the segment of the onset candidate decided at `decided`, the floor then
        `floor_dbfs`: its sums are the candidate's, its start moved back over a soft onset."""
        c = self.onsets
        assert c.cand_start is not None
        self.in_speech = True
        self._start_floor = floor_dbfs
        start = self._extend_start(c.cand_from, decided)
        self.meter.open_segment(
            start, decided, c.cand_voiced, c.cand_loud, c.cand_power, c.cand_floor, c.cand_peak
        )
        c.cand_start = None

    def _extend_start(self, start: int, decided: int) -> int:
        """Move a start back over frames clearly above the floor (a soft onset)."""
        threshold = self._start_floor + self.edge_margin_db
        lowest = max(
            start - self.edge_shift, self._prev_end, decided - self.history, self.levels.base
        )
        while start > lowest and self.levels.at(start - 1) >= threshold:
            start -= 1
        return start

    def _trim_end(self, last: int, decided: int) -> int:
        """End after the last frame clearly above the floor (drops webrtcvad's overhang).

        The floor is the lower of the one before the segment and the one at its end: inside
        long speech the floor estimate creeps up towards the speech.
        """
        threshold = min(self._start_floor, self.meter.floor_at_last) + self.edge_margin_db
        lowest = max(
            last - self.edge_shift, self.meter.seg_start, decided - self.history, self.levels.base
        )
        while last > lowest and self.levels.at(last) < threshold:
            last -= 1
        return last + 1

    def _close(self, decided: int) -> Segment:
        self.in_speech = False
        self.onsets.cand_start = None
        end = self._trim_end(self._last_voiced, decided)
        self._prev_end = end
        return self.meter.segment_until(end)

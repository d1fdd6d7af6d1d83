"""Onsets: when a run of voiced frames becomes speech, confirmed by the learned stage.

The rules (ivr.detect.vad): a candidate starts at a frame that webrtcvad calls voiced and that
stands edge_margin_db above the floor, and becomes speech once `onset` such frames have
counted, with no ONSET_BREAK_FRAMES in a row that do not, two of the last five periodic like
a voice (ivr.detect.voicing) or one of them at LOUD_VOICE_DBFS or louder. With the learned
stage (ivr.detect.learned) the decision waits for Silero's confirmation: PENDING_FRAMES at most,
then the candidate is dropped and webrtcvad's run counts only where Silero hears speech. The
counter keeps the candidate's state; the segmenter (ivr.detect.vad) holds it with the level
meter whose block sums it reads and the recent frame levels both use.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.detect import voicing
from ivr.detect.learned import LOOKBACK_FRAMES, LearnedSpeech
from ivr.detect.segment_level import RecentLevels, SegmentLevelMeter
from ivr.detect.voice_activity import runs

ONSET_VOICED_FRAMES = 2
"""Of the frames that decide an onset, at least this many must be voiced speech (periodic:
ivr.detect.voicing), or all of them when the onset is shorter. Breathing and hiss are loud and
webrtcvad calls them voiced, but they are not periodic."""

LOUD_VOICE_DBFS = -35.0
"""An onset is decided without the voicing measure once one of its last `onset` counted frames
is at or above this level (dBFS): what is that loud and lasts a word is a voice; breathing and
hiss near a handset are -50 dBFS and below (and the measure costs as much as webrtcvad on its
frames). Each frame is judged on its own, so the decision does not depend on how the audio is
cut into blocks."""

VOICING_STEP_FRAMES = 4
"""Frames of voicing measured beyond those an onset still needs, per step of `_decide`."""

ONSET_BREAK_FRAMES = 2
"""Frames (40 ms) that do not count towards an onset (unvoiced, or not edge_margin_db above the
floor) after which the count starts again: a click with webrtcvad's overhang after it, or
clicks a second apart, never add up to a word."""

_UNVOICED, _VOICED, _LOUD = 0, 1, 2  # what an onset frame is: not voiced, voiced, loud

PENDING_FRAMES = 15
"""Frames (300 ms) an onset decided by webrtcvad's rules waits for the learned stage's
confirmation, deciding again at each loud frame: Silero's probability reaches 0.5 up to about
300 ms after a soft, breathy first syllable (a median 50 ms)."""

STREAM_IDLE_FRAMES = 50
"""Frames (1 s) of webrtcvad hearing nothing after which the learned stage's stream ends: a
caller's next word within a second is read with the context of the ones before (the network
is more sure of a quiet talker after a few words), a word after a longer silence starts a new
stream."""

REJECTED_IDLE_FRAMES = 10
"""Frames (200 ms) of webrtcvad hearing nothing after which a stream that has rejected a
candidate ends (STREAM_IDLE_FRAMES for one that has not): the sound it rejected has stopped,
and what comes next is read afresh, with its own gain and a network state of its own. Music on
hold, a ring or a run of static leaves the network's state set against speech and the stream's
gain set for the rejected sound: an agent back from hold 0.4 s after the music stopped, 15 dB
louder than it, read on the music's stream, was never confirmed over 3 s of speech (Silero's
probability at most 0.29), and read on a new one, at once."""


class OnsetCounter:
    """Counting a voiced run towards an onset and deciding it (`onset`), the candidate's sums
    kept as running sums (ivr.detect.segment_level) for the segment it opens."""

    def __init__(
        self,
        onset: int,
        edge_shift: int,
        learned: LearnedSpeech | None,
        meter: SegmentLevelMeter,
        levels: RecentLevels,
    ) -> None:
        self.onset = onset
        """Voiced frames that make speech (vad.onset_ms in frames)."""
        self.learned = learned
        """The learned stage that confirms each onset (None: webrtcvad's rules alone)."""
        self.meter = meter
        """The level meter whose block sums the candidate adds up."""
        self.levels = levels
        """The recent frame levels (dBFS)."""
        self.edge_shift = edge_shift
        self._voiced_need = min(ONSET_VOICED_FRAMES, onset)  # a 20 ms onset: its frame
        self.voiced_from = 0
        """First frame of the voiced stretch going on (the segmenter sets it)."""
        self.cand_start: int | None = None
        """First counted frame of an onset candidate (None: no candidate)."""
        self.cand_from = 0
        """Where a segment decided from the candidate starts."""
        self.cand_loud = 0  # frames of the candidate that count towards the onset
        self.cand_voiced = 0  # voiced frames of the candidate, their power and floor
        self.cand_floor = 0
        self.cand_power = 0.0
        self.cand_peak = 0.0  # the loudest PEAK_MS ending at one of its voiced frames
        self._quiet_run = ONSET_BREAK_FRAMES  # frames since the last one that counted
        self._cand_voicing: list[int] = []  # kinds of its last counted frames
        self._audio: np.ndarray | None = None  # the block's frames while it is processed
        self._previous_frame = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        self._pending: tuple[int, int] | None = None  # a decided candidate the learned stage
        # has not confirmed yet: (first frame not in its sums, or -1: the next voiced run's
        # first; the frame the rules decided it at)
        self._rejected_at = 0  # where the last pending candidate was dropped
        self._vetoing = False  # a candidate was dropped: frames count where it hears speech

    def begin_block(self, audio: np.ndarray | None) -> None:
        """A block's (n, 320) frames, read for voicing while it is processed (None: every loud
        frame is taken as voiced)."""
        self._audio = audio

    def end_block(self) -> None:
        """The block is processed: its last frame is the one before the next block's."""
        if self._audio is not None:
            self._previous_frame = self._audio[-1].copy()
        self._audio = None

    def unvoiced(self, frames: int, quiet_for: int) -> None:
        """Unvoiced `frames` outside speech, webrtcvad silent for `quiet_for` frames now: a
        candidate they break is gone, and after long enough a new learned stream begins."""
        self._quiet_run += frames
        if quiet_for >= ONSET_BREAK_FRAMES:
            self._pending = None  # its run broke: the candidate is gone
        idle = REJECTED_IDLE_FRAMES if self._vetoing else STREAM_IDLE_FRAMES
        if quiet_for >= idle and self.learned is not None:
            self.learned.stop()  # webrtcvad heard nothing for long: a new stream
            self._vetoing = False
        if self._quiet_run >= ONSET_BREAK_FRAMES:
            self.cand_start = None

    def onset_in(self, base: int, start: int, end: int, loud: np.ndarray) -> tuple[int, int] | None:
        """Count a voiced run [start, end) of the block towards an onset: (decided frame, first
        frame not yet in the candidate), or None. As `_counted` does, each onset confirmed by
        the learned stage (ivr.detect.learned) when there is one. A candidate it does not
        confirm yet stays pending for up to PENDING_FRAMES of webrtcvad's run, decided at the
        first frame the stage confirms it (the network can lag a soft onset); then it is
        dropped, and the rest of the run counts only where the stage hears speech."""
        learned = self.learned
        if learned is None:
            return self._counted(base, start, end, loud)
        pos = start
        if self._pending is not None:
            hit = self._confirm_pending(base, pos, end)
            if hit is not None or self._pending is not None:
                return hit
            pos = self._rejected_at - base
        while pos < end:
            if self._vetoing:
                loud = loud.copy()
                loud[pos:end] &= learned.speech_mask(base + pos, base + end)
            hit = self._counted(base, pos, end, loud)
            if hit is None:
                return None
            decided, first = hit
            if learned.confirms(self.cand_from, decided, self._loudest(decided)):
                learned.stop()
                self._vetoing = False
                return hit
            self._pending = (first, decided)
            hit = self._confirm_pending(base, decided - base, end)
            if hit is not None or self._pending is not None:
                return hit
            pos = self._rejected_at - base
        return None

    def _confirm_pending(self, base: int, pos: int, end: int) -> tuple[int, int] | None:
        """Frames [pos, end) of the block's voiced run, for the candidate pending since the
        webrtcvad rules decided it: the onset (decided frame, first frame not yet in the
        candidate) at the first frame the learned stage confirms, or None. Frames read without
        a confirmation join the candidate; past PENDING_FRAMES it is dropped at
        `_rejected_at` and the stage goes on listening (`_vetoing`)."""
        assert self._pending is not None and self.learned is not None
        first, since = self._pending
        if first < 0:  # the frames of earlier runs are in the candidate already
            first = base + pos
        last = min(end, since + PENDING_FRAMES - base)
        for f in range(pos, last):
            loudest = self._loudest(base + f + 1)
            if self.learned.confirms(self.cand_from, base + f + 1, loudest):
                self.learned.stop()
                self._pending, self._vetoing = None, False
                return base + f + 1, first
        if last < end or base + end >= since + PENDING_FRAMES:
            self._rejected_at = max(base + pos, since + PENDING_FRAMES)
            self._pending, self._vetoing = None, True
            self.cand_start = None  # not speech: none of its frames count
            self._quiet_run = ONSET_BREAK_FRAMES
            return None
        self._absorb(base, first, base + end)
        self._pending = (-1, since)  # the next voiced run goes on from its own start
        return None

    def _loudest(self, decided: int) -> float:
        """The highest frame level (dBFS) of the candidate up to `decided` (at most
        LOOKBACK_FRAMES): the learned stage reads it at that gain."""
        first = max(self.cand_from, decided - LOOKBACK_FRAMES, self.levels.base)
        return float(self.levels.between(first, decided).max())

    def _absorb(self, base: int, a0: int, a1: int) -> None:
        """Add the voiced frames [a0, a1) (absolute, in the block) to the onset candidate."""
        if a1 <= a0:
            return
        self.cand_loud += self.meter.loud_count(a0 - base, a1 - base)
        self.cand_voiced += a1 - a0
        self.cand_floor += self.meter.floor_centi(a0 - base, a1 - base)
        self.cand_power += self.meter.power_sum(a0 - base, a1 - base)
        self.cand_peak = max(self.cand_peak, self.meter.peak_power(base, a0 - base, a1 - base))

    def _counted(self, base: int, start: int, end: int, loud: np.ndarray) -> tuple[int, int] | None:
        """Count a voiced run [start, end) of the block towards an onset.

        Only frames at least edge_margin_db above the floor (`loud`) count; a stretch of
        ONSET_BREAK_FRAMES or more that does not count starts the count again. Returns
        (decided frame, absolute frame where the deciding loud stretch began) once `onset`
        frames have counted, else None (the candidate is kept for the next run or block).
        """
        for s0, s1, is_loud in zip(*runs(loud[start:end]), strict=True):
            a0, a1 = base + start + s0, base + start + s1
            if not is_loud:
                self._quiet_run += a1 - a0
                if self.cand_start is None:
                    continue
                if self._quiet_run >= ONSET_BREAK_FRAMES:
                    self.cand_start = None
                else:
                    self.cand_voiced += a1 - a0
                    self.cand_floor += self.meter.floor_centi(a0 - base, a1 - base)
                    self.cand_peak = max(
                        self.cand_peak, self.meter.peak_power(base, a0 - base, a1 - base)
                    )
                continue
            if self.cand_start is None or self._quiet_run >= ONSET_BREAK_FRAMES:
                self.cand_start, self.cand_loud = a0, 0
                self._cand_voicing = []
                self.cand_from = max(self.voiced_from, a0 - self.edge_shift)
                self.cand_voiced, self.cand_power, self.cand_floor = 0, 0.0, 0
                self.cand_peak = 0.0
            self._quiet_run = 0
            decided = self._decide(base, a0, a1)
            if decided is not None:
                return decided, a0
            self._absorb(base, a0, a1)
        return None

    def _decide(self, base: int, a0: int, a1: int) -> int | None:
        """The frame an onset is decided at inside the loud stretch [a0, a1) (absolute), or
        None: the first frame at which `onset` frames have counted and, of the last `onset` of
        them, one reaches LOUD_VOICE_DBFS or ONSET_VOICED_FRAMES are voiced (ivr.detect.voicing;
        without audio, every loud frame is taken as voiced)."""
        need = self.onset - self.cand_loud
        if self._audio is None:
            return a0 + need if a1 - a0 >= need else None
        first, stop = a0 - base, a1 - base
        pos = first
        while pos < stop:  # a few frames at a time: a long loud stretch decides early
            counted_before = self.cand_loud + pos - first
            end = min(stop, pos + max(self.onset - counted_before, 1) + VOICING_STEP_FRAMES)
            hit = self._decide_in(base, pos, end, counted_before)
            if hit is not None:
                return base + hit + 1
            pos = end
        return None

    def _decide_in(self, base: int, pos: int, end: int, counted_before: int) -> int | None:
        """The block index of the frame in [pos, end) that decides the onset, or None (the
        kinds of the last counted frames are kept for the next step). Each frame is judged on
        its own, so the decision does not depend on how the audio is cut: once a frame at or
        above LOUD_VOICE_DBFS is among the last `onset` counted, the onset is decided; frames
        before that are measured for voicing. A step holds a few frames: plain Python."""
        onset, history = self.onset, self._cand_voicing
        levels = self.levels.between(base + pos, base + end).tolist()
        loud = [level >= LOUD_VOICE_DBFS for level in levels]
        kinds = history + [_LOUD if is_loud else _UNVOICED for is_loud in loud]
        held = len(history)
        # the frames whose voicing may matter: those before the first frame the level decides
        # at, if a frame before it could decide by voice (or if none decides: later ones may)
        upto = len(loud)
        last_loud = max((i for i, kind in enumerate(history) if kind == _LOUD), default=-onset)
        for i, is_loud in enumerate(loud):
            if is_loud:
                last_loud = held + i
            if counted_before + i + 1 >= onset and last_loud > held + i - onset:
                upto = i if counted_before + i >= onset else 0
                break
        quiet = [i for i in range(upto) if not loud[i]]
        if quiet:  # loud frames need no measure: measured up to the last quiet one
            before = self._audio[pos - 1] if pos > 0 else self._previous_frame
            periodic = voicing.voiced(before, self._audio[pos : pos + quiet[-1] + 1]).tolist()
            for i in quiet:
                if periodic[i]:
                    kinds[held + i] = _VOICED
        for i in range(len(loud)):
            if counted_before + i + 1 < onset:
                continue
            window = kinds[max(0, held + i + 1 - onset) : held + i + 1]
            if _LOUD in window or len(window) - window.count(_UNVOICED) >= self._voiced_need:
                return pos + i
        self._cand_voicing = kinds[max(0, len(kinds) - (onset - 1)) :]
        return None

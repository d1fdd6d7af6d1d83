"""Voice activity: webrtcvad decisions per frame, smoothed into speech segments.

webrtcvad says voiced / unvoiced for each 20 ms frame. The segmenter turns that into speech
that a person would count: it starts once `onset_ms` (100 ms, the minimum word length of
Asterisk's AMD) of voiced audio clearly above the noise floor has been heard, and ends after
`hangover_ms` of unvoiced audio (a pause between words is not the end). A click, a pop or a
knock is voiced to webrtcvad, which then keeps saying voiced for 60-100 ms of quiet line (its
own overhang): only the loud frames count, so an impulse shorter than a word never starts
speech, and no segment is shorter than `onset_ms` after its edges are refined. Work is done
per run of equal decisions, not per frame, so it costs little.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ivr.audio.format import FRAME_SAMPLES, SILENCE_DBFS, ms_to_frames
from ivr.detect import voicing
from ivr.detect.level import MIN_POWER
from ivr.detect.settings import VadSettings
from ivr.detect.voice_activity import runs
from ivr.events import DetectorEvent, Segment, SpeechEnded, SpeechProgress, SpeechStarted

MIN_SNR_DB = -30.0
"""Lowest signal-to-noise ratio reported for a segment (dB)."""


PEAK_MS = 500
"""Stretch (ms) over which a segment's loudest part is measured (Segment.peak_snr_db): long
enough that office babble's own swells (at most 14 dB over its floor in a minute of it) stay
below a talker's words over it (21 dB and more for a talker 16 dB above the babble)."""

FLOOR_SETTLED_MS = 1000
"""Audio (ms) from the start of the call before which the noise floor estimate, made of too
few frames, is not trusted for a segment's loudest part (Segment.peak_snr_db)."""

PEAK_RISE_DB = 3.0
"""A rise of a segment's loudest part by this much (dB) is sent at once as SpeechProgress."""

PEAK_RISE = 10 ** (PEAK_RISE_DB / 10)

PROGRESS_MS = 1000
"""How often an open speech segment is measured so far (ms): SpeechProgress events."""

ONSET_VOICED_FRAMES = 2
"""Of the frames that decide an onset, at least this many must be voiced speech (periodic:
ivr.detect.voicing). Breathing and hiss are loud and webrtcvad calls them voiced, but they are
not periodic."""

LOUD_VOICE_DBFS = -35.0
"""Onset frames count as voiced without the voicing measure when one of them is at or above
this level (dBFS): what is that loud and lasts a word is a voice; breathing and hiss near a
handset are -50 dBFS and below (and the measure costs as much as webrtcvad on its frames)."""

VOICING_STEP_FRAMES = 4
"""Frames of voicing measured beyond those an onset still needs, per step of `_decide`."""

ONSET_BREAK_FRAMES = 2
"""Frames (40 ms) that do not count towards an onset (unvoiced, or not edge_margin_db above the
floor) after which the count starts again: a click with webrtcvad's overhang after it, or
clicks a second apart, never add up to a word."""

EDGE_SHIFT_MS = 160
"""Furthest a segment edge is moved by level (ms); see VadSettings.edge_margin_db."""


class SpeechSegmenter:
    """Onset and hangover smoothing of per-frame voiced decisions into speech segments.

    A segment starts at the first counted frame of a candidate and is decided once the
    candidate holds `onset` frames that are voiced and at least edge_margin_db above the floor,
    with no ONSET_BREAK_FRAMES in a row that are not; it ends after its last voiced frame once
    `hangover` unvoiced frames follow. Its edges are then
    refined by level (VadSettings.edge_margin_db). Each segment's level is the mean power of
    its voiced frames at least edge_margin_db above the floor (its active speech: not
    webrtcvad's overhang, not the dropouts) with the noise floor's power subtracted.
    """

    def __init__(self, settings: VadSettings, gap_ms: int = 100, warmup_frames: int = 0) -> None:
        self.gap = max(1, ms_to_frames(gap_ms))
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
        self.progress = ms_to_frames(PROGRESS_MS)
        self.settled = ms_to_frames(FLOOR_SETTLED_MS)
        self._next_progress = 0  # frame of the next SpeechProgress of the open segment
        self.in_speech = False
        self._last_voiced = -(10**9)  # absolute index of the latest voiced frame
        self._prev_end = 0  # end of the previous segment: a start never moves before it
        self._cand_start: int | None = None  # first counted frame of an onset candidate
        self._cand_loud = 0  # frames of the candidate that count towards the onset
        self._cand_voiced = 0  # voiced frames of the candidate, their power and floor
        self._cand_floor = 0
        self._cand_power = 0.0
        self._quiet_run = ONSET_BREAK_FRAMES  # frames since the last one that counted
        self._voiced_from = 0  # first frame of the voiced stretch going on
        self._cand_voicing = np.zeros(0, dtype=bool)  # voicing of its last counted frames
        self._audio: np.ndarray | None = None  # the block's frames while it is processed
        self._previous_frame = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        self._cand_from = 0  # where a segment decided from the candidate starts
        self._seg_start = 0
        self._seg_voiced = 0
        self._seg_loud = 0  # loud frames of the open segment, and their power
        self._seg_power = 0.0
        self._seg_floor_sum, self._seg_floor_n = 0, 0  # floor over its voiced frames (0.01 dB)
        self._told_peak = 0.0  # the loudest part as last sent in a SpeechProgress
        self._seg_peak = 0.0  # highest mean power over PEAK_MS inside the open segment, as a
        # ratio to the floor in force at its frame
        self.peak = ms_to_frames(PEAK_MS)
        self._recent_powers = np.zeros(self.peak - 1)  # the last frames' powers, for the peak
        self._seg_gaps = 0
        self._floor_at_last = SILENCE_DBFS
        self._levels = np.zeros(0, dtype=np.float32)  # frame levels (dBFS), recent frames
        self._levels_base = 0  # absolute index of _levels[0]
        self._start_floor = SILENCE_DBFS  # the floor when the open segment was decided (dBFS)

    def feed(
        self,
        base: int,
        flags: np.ndarray,
        powers: np.ndarray,
        levels_db: np.ndarray,
        floor_db: np.ndarray,
        audio: np.ndarray | None = None,
    ) -> tuple[list[DetectorEvent], np.ndarray]:
        """Process a block starting at absolute frame `base`.

        `flags` are the voiced decisions, `powers` the frame powers (full scale = 1),
        `levels_db` the same in dBFS and `floor_db` the noise floor in force at each frame
        (dBFS), `audio` the (n, 320) frames themselves (for voicing; None: every loud frame is
        taken as voiced). Returns the events decided in this block and the speech decision per
        frame as known at that frame (bool array).
        """
        n = flags.shape[0]
        self._audio = audio
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
        # Running sums over the block of the power, and the count, of the loud frames: a
        # segment's level is measured on them (active speech, not webrtcvad's overhang).
        cum = np.concatenate(([0.0], np.cumsum(np.where(loud, powers, 0.0))))
        count = np.concatenate(([0], np.cumsum(loud)))
        # Running sum of the floor in whole 0.01 dB: exact integers, whatever the chunking.
        centi = np.rint(floor_db.astype(np.float64) * 100).astype(np.int64)
        self._floor_cum = np.concatenate(([0], np.cumsum(centi)))
        # Mean power over the PEAK_MS ending at each frame of the block.
        recent = np.concatenate((self._recent_powers, powers))
        # each window summed on its own, so that the result does not depend on chunking
        self._window_power = sliding_window_view(recent, self.peak).mean(axis=1)
        self._recent_powers = recent[recent.size - (self.peak - 1) :]
        open_at = 0 if self.in_speech else None
        for start, end, voiced in zip(*runs(flags), strict=True):
            a, b = base + start, base + end
            if voiced:
                if self.in_speech:
                    if a - (self._last_voiced + 1) >= self.gap:
                        self._seg_gaps += 1
                    self._add_run(events, base, start, end, cum, count, floor_db)
                else:
                    if a != self._last_voiced + 1:
                        self._voiced_from = a
                    hit = self._onset(base, start, end, loud, cum, floor_db)
                    if hit is not None:
                        decided, first = hit
                        assert self._cand_start is not None
                        self.in_speech = True
                        self._start_floor = float(floor_db[decided - 1 - base])
                        self._seg_start = self._extend_start(self._cand_from, decided)
                        self._seg_voiced = self._cand_voiced
                        self._seg_loud = self._cand_loud
                        self._seg_power = self._cand_power
                        self._seg_peak = 0.0
                        self._told_peak = 0.0
                        self._seg_floor_sum = self._cand_floor
                        self._seg_floor_n = self._cand_voiced
                        self._seg_gaps = 0
                        self._cand_start = None
                        events.append(SpeechStarted(self._seg_start, decided))
                        open_at = decided - 1 - base
                        self._next_progress = decided + self.progress
                        self._add_run(events, base, first - base, end, cum, count, floor_db)
                self._last_voiced = b - 1
                self._floor_at_last = float(floor_db[end - 1])
            elif not self.in_speech:
                self._quiet_run += end - start
                if self._quiet_run >= ONSET_BREAK_FRAMES:
                    self._cand_start = None
            elif b - (self._last_voiced + 1) >= self.hangover:
                decided = self._last_voiced + 1 + self.hangover
                self._progress_until(events, decided - 1, base, None, cum, count, floor_db)
                events.append(SpeechEnded(self._close(decided), decided))
                speech[open_at : decided - 1 - base] = True
                open_at = None
            else:
                self._progress_until(events, b, base, None, cum, count, floor_db)
        if open_at is not None:
            speech[open_at:] = True
        if audio is not None:
            self._previous_frame = audio[-1].copy()
        self._audio = None
        keep = min(self.history, self._levels.shape[0])
        self._levels_base += self._levels.shape[0] - keep
        self._levels = self._levels[self._levels.shape[0] - keep :]
        return events, speech

    def _onset(
        self,
        base: int,
        start: int,
        end: int,
        loud: np.ndarray,
        cum: np.ndarray,
        floor_db: np.ndarray,
    ) -> tuple[int, int] | None:
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
                if self._cand_start is None:
                    continue
                if self._quiet_run >= ONSET_BREAK_FRAMES:
                    self._cand_start = None
                else:
                    self._cand_voiced += a1 - a0
                    self._cand_floor += self._floor_centi(a0 - base, a1 - base)
                continue
            if self._cand_start is None or self._quiet_run >= ONSET_BREAK_FRAMES:
                self._cand_start, self._cand_loud = a0, 0
                self._cand_voicing = np.zeros(0, dtype=bool)
                self._cand_from = max(self._voiced_from, a0 - self.edge_shift)
                self._cand_voiced, self._cand_power, self._cand_floor = 0, 0.0, 0
            self._quiet_run = 0
            decided = self._decide(base, a0, a1)
            if decided is not None:
                return decided, a0
            self._cand_loud += a1 - a0
            self._cand_voiced += a1 - a0
            self._cand_floor += self._floor_centi(a0 - base, a1 - base)
            self._cand_power += float(cum[a1 - base] - cum[a0 - base])
        return None

    def _add_run(
        self,
        events: list[DetectorEvent],
        base: int,
        start: int,
        end: int,
        cum: np.ndarray,
        count: np.ndarray,
        floor_db: np.ndarray,
    ) -> None:
        """Add the voiced frames [start, end) of the block to the open segment, sending the
        progress due inside them first: every PROGRESS_MS, and at each frame where the
        segment's loudest part rises by PEAK_RISE_DB (a talker begins over the noise: the
        engine must not judge it on a measurement from before)."""
        peaks = self._window_power[start:end].copy()
        peaks[: max(0, self.settled - base - start)] = 0.0  # as in _peak_power
        pos = start
        while True:
            rising = np.flatnonzero(peaks[pos - start :] > self._told_peak * PEAK_RISE)
            if not rising.size:
                break
            pos += int(rising[0]) + 1  # measured up to and with the rising frame
            self._progress_until(events, base + pos, base, start, cum, count, floor_db)
            if not events or events[-1].decided_frame != base + pos:
                self._progress_at(events, base + pos, base, start, cum, count, floor_db)
        self._progress_until(events, base + end, base, start, cum, count, floor_db)
        self._seg_voiced += end - start
        self._seg_loud += int(count[end] - count[start])
        self._seg_power += float(cum[end] - cum[start])
        self._seg_peak = max(self._seg_peak, self._peak_power(base, start, end, floor_db))
        self._seg_floor_sum += self._floor_centi(start, end)
        self._seg_floor_n += end - start

    def _progress_until(
        self,
        events: list[DetectorEvent],
        last: int,
        base: int,
        start: int | None,
        cum: np.ndarray,
        count: np.ndarray,
        floor_db: np.ndarray,
    ) -> None:
        """SpeechProgress of the open segment for every due frame up to `last` (absolute):
        inside a voiced run beginning at block index `start` whose frames are not yet added
        to the segment, or inside unvoiced frames (`start` None: nothing to add)."""
        while self._next_progress <= last:
            self._progress_at(events, self._next_progress, base, start, cum, count, floor_db)
            self._next_progress += self.progress

    def _progress_at(
        self,
        events: list[DetectorEvent],
        frame: int,
        base: int,
        start: int | None,
        cum: np.ndarray,
        count: np.ndarray,
        floor_db: np.ndarray,
    ) -> None:
        """One SpeechProgress: the open segment measured up to absolute `frame` (see
        _progress_until for `start`)."""
        at = frame - base  # block index of the frame measured up to
        power, loud, peak = self._seg_power, self._seg_loud, self._seg_peak
        floor_sum, floor_n = self._seg_floor_sum, self._seg_floor_n
        if start is not None and at > start:
            power += float(cum[at] - cum[start])
            loud += int(count[at] - count[start])
            peak = max(peak, self._peak_power(base, start, at, floor_db))
            floor_sum += self._floor_centi(start, at)
            floor_n += at - start
        floor = self._mean_floor(floor_sum, floor_n)
        events.append(
            SpeechProgress(self._measure(self._seg_start, frame, power, loud, floor, peak), frame)
        )
        self._told_peak = max(self._told_peak, peak)

    def _floor_centi(self, start: int, stop: int) -> int:
        """The floor summed over block frames [start, stop), in 0.01 dB."""
        return int(self._floor_cum[stop] - self._floor_cum[start])

    def _peak_power(self, base: int, start: int, stop: int, floor_db: np.ndarray) -> float:
        """The highest mean power over the PEAK_MS ending at block frames [start, stop)
        (relative to full scale); frames before the floor has settled (FLOOR_SETTLED_MS) are
        not measured: against no floor, the first loud moment would stand out."""
        start = max(start, self.settled - base)
        if stop <= start:
            return 0.0
        return float(self._window_power[start:stop].max())

    def _decide(self, base: int, a0: int, a1: int) -> int | None:
        """The frame an onset is decided at inside the loud stretch [a0, a1) (absolute), or
        None: `onset` counted frames, ONSET_VOICED_FRAMES of the last `onset` of them voiced
        (ivr.detect.voicing; without audio, every loud frame is taken as voiced)."""
        need = self.onset - self._cand_loud
        if self._audio is None:
            return a0 + need if a1 - a0 >= need else None
        first, stop = a0 - base, a1 - base
        history, pos = self._cand_voicing, first
        while pos < stop:  # a few frames at a time: a long loud stretch decides early
            counted_before = self._cand_loud + pos - first
            end = min(stop, pos + max(self.onset - counted_before, 1) + VOICING_STEP_FRAMES)
            before = self._audio[pos - 1] if pos > 0 else self._previous_frame
            flags = np.concatenate((history, self._voiced(before, base, pos, end)))
            counted = counted_before + np.arange(1, end - pos + 1)
            sums = np.concatenate(([0], np.cumsum(flags)))
            ends = np.arange(history.size + 1, flags.size + 1)
            recent = sums[ends] - sums[np.maximum(ends - self.onset, 0)]
            hits = np.flatnonzero((counted >= self.onset) & (recent >= ONSET_VOICED_FRAMES))
            if hits.size:
                return base + pos + int(hits[0]) + 1
            history, pos = flags[flags.size - (self.onset - 1) :], end
        self._cand_voicing = history
        return None

    def _voiced(self, before: np.ndarray, base: int, start: int, stop: int) -> np.ndarray:
        """Voicing of block frames [start, stop): all taken as voiced without measuring them
        when one reaches LOUD_VOICE_DBFS (breathing and hiss near a handset are far quieter),
        else measured (ivr.detect.voicing)."""
        first = base + start - self._levels_base
        if self._levels[first : first + stop - start].max() >= LOUD_VOICE_DBFS:
            return np.ones(stop - start, dtype=bool)
        return voicing.voiced(before, self._audio[start:stop])

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
        return self._measure(
            self._seg_start,
            end,
            self._seg_power,
            self._seg_loud,
            self._mean_floor(self._seg_floor_sum, self._seg_floor_n),
            self._seg_peak,
        )

    def _mean_floor(self, centi_db: int, frames: int) -> float:
        """The floor (dBFS) a segment is measured against: the mean floor over its voiced
        frames (a single reading at its end would be one moment of a long segment, and noise
        that swells would stand out against the floor from before it), or the last floor when
        there are none."""
        if frames <= 0:
            return self._floor_at_last
        return centi_db / frames / 100.0

    def _measure(
        self, start: int, end: int, power: float, loud: int, floor: float, peak: float
    ) -> Segment:
        """The segment [start, end) with `loud` frames of total `power` over `floor` (dBFS),
        its loudest PEAK_MS of mean power `peak` (powers relative to full scale)."""
        mean_power = power / max(1, loud)
        floor_power = 10.0 ** (floor / 10.0)
        lowest = max(floor_power * 10 ** (MIN_SNR_DB / 10), MIN_POWER)
        speech_power = max(mean_power - floor_power, lowest)
        peak_snr = max(peak / floor_power - 1.0, 10 ** (MIN_SNR_DB / 10))
        return Segment(
            start=start,
            end=end,
            level_dbfs=round(10.0 * math.log10(speech_power), 2),
            snr_db=round(10.0 * math.log10(speech_power / floor_power), 2),
            floor_dbfs=round(floor, 2),
            voiced_frames=self._seg_voiced,
            gaps=self._seg_gaps,
            peak_snr_db=round(10.0 * math.log10(peak_snr), 2),
        )

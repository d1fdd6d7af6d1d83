"""How loud a speech segment is: its level and SNR over the noise floor, and its loudest part.

A segment is measured on its active speech: the voiced frames at least edge_margin_db above the
floor (not webrtcvad's overhang, not the dropouts), with the noise floor's power subtracted,
against the mean floor over its voiced frames. Its loudest part is the highest mean power over
PEAK_MS inside it (Segment.peak_snr_db). While a segment is open it is measured so far every
PROGRESS_MS, and at once when its loudest part rises by PEAK_RISE_DB (SpeechProgress).

Every sum is kept so that the result does not depend on how the audio is cut into blocks: the
floor is summed in whole 0.01 dB, each PEAK_MS window is averaged on its own.
"""

from __future__ import annotations

import math

import numpy as np

from ivr.audio.format import SILENCE_DBFS, ms_to_frames
from ivr.detect.level import MIN_POWER, sliding_windows
from ivr.events import DetectorEvent, Segment, SpeechProgress

MIN_SNR_DB = -30.0
"""Lowest signal-to-noise ratio reported for a segment (dB)."""
_MIN_SNR = 10 ** (MIN_SNR_DB / 10)


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
"""PEAK_RISE_DB as a power ratio."""

PROGRESS_MS = 1000
"""How often an open speech segment is measured so far (ms): SpeechProgress events."""


class RecentLevels:
    """The levels (dBFS) of the last frames, by absolute frame: the segmenter adds each block's
    and keeps as many as its lookups reach back (ivr.detect.vad), the onset counter reads them
    (ivr.detect.onset)."""

    def __init__(self) -> None:
        self.values = np.zeros(0, dtype=np.float32)
        self.base = 0
        """Absolute index of values[0]."""

    def add(self, levels_db: np.ndarray) -> None:
        """A block's frame levels, after those kept."""
        self.values = np.concatenate((self.values, levels_db))

    def at(self, frame: int) -> float:
        """The level of absolute `frame`."""
        return float(self.values[frame - self.base])

    def between(self, first: int, stop: int) -> np.ndarray:
        """The levels of absolute frames [first, stop)."""
        return self.values[first - self.base : stop - self.base]

    def keep(self, frames: int) -> None:
        """Keep the last `frames` levels only."""
        keep = min(frames, self.values.shape[0])
        self.base += self.values.shape[0] - keep
        self.values = self.values[self.values.shape[0] - keep :]


class SegmentLevelMeter:
    """The measure of the open speech segment, kept as running sums while it grows.

    Block by block, `measure_block` prepares the block's running sums; the segmenter that holds
    the meter opens a segment (`open_segment`), adds its voiced runs (`add_run`, which sends the
    SpeechProgress due), sends the progress due over its unvoiced frames (`progress_until`) and
    measures it when it closes (`segment_until`). The onset counter reads the block's sums
    (`loud_count`, `power_sum`, `floor_centi`, `peak_power`) for the candidate it keeps.
    """

    def __init__(self) -> None:
        self.progress = ms_to_frames(PROGRESS_MS)
        self.settled = ms_to_frames(FLOOR_SETTLED_MS)
        self.peak = ms_to_frames(PEAK_MS)
        self._run_peaks: tuple[int, np.ndarray] | None = None
        """While a voiced run is added: its block index and running maximum of the peaks."""
        self._next_progress = 0  # frame of the next SpeechProgress of the open segment
        self.seg_start = 0
        self._seg_voiced = 0
        self._seg_loud = 0  # loud frames of the open segment, and their power
        self._seg_power = 0.0
        self._seg_floor_sum, self._seg_floor_n = 0, 0  # floor over its voiced frames (0.01 dB)
        self._told_peak = 0.0  # the loudest part as last sent in a SpeechProgress
        self._seg_peak = 0.0  # highest mean power over PEAK_MS inside the open segment, as a
        # ratio to the floor in force at its frame
        self._recent_powers = np.zeros(self.peak - 1)  # the last frames' powers, for the peak
        self.dropouts: list[int] = []
        """Frames where a dropout of the line ended (recent; the segmenter adds them)."""
        self.floor_at_last = SILENCE_DBFS
        """The floor at the last voiced frame (dBFS; the segmenter sets it)."""
        # Running sums over the block being processed (see measure_block).
        self._power_cum = np.zeros(1)
        self._loud_cum = np.zeros(1, dtype=np.int64)
        self._floor_cum = np.zeros(1, dtype=np.int64)
        self._window_power = np.zeros(0)

    def measure_block(self, powers: np.ndarray, loud: np.ndarray, floor_db: np.ndarray) -> None:
        """Prepare the running sums of a block: of the power and the count of its `loud`
        frames (full scale = 1), of its floor `floor_db` (dBFS), and the mean power over the
        PEAK_MS ending at each of its frames."""
        # A segment's level is measured on the loud frames (active speech, not webrtcvad's
        # overhang).
        self._power_cum = np.concatenate(([0.0], np.cumsum(np.where(loud, powers, 0.0))))
        self._loud_cum = np.concatenate(([0], np.cumsum(loud)))
        # Running sum of the floor in whole 0.01 dB: exact integers, whatever the chunking.
        centi = np.rint(floor_db.astype(np.float64) * 100).astype(np.int64)
        self._floor_cum = np.concatenate(([0], np.cumsum(centi)))
        recent = np.concatenate((self._recent_powers, powers))
        # each window summed on its own, so that the result does not depend on chunking
        self._window_power = sliding_windows(recent, self.peak).mean(axis=1)
        self._recent_powers = recent[recent.size - (self.peak - 1) :]

    def open_segment(
        self,
        start: int,
        decided: int,
        voiced: int,
        loud: int,
        power: float,
        floor_centi: int,
        peak: float,
    ) -> None:
        """Open a segment at absolute frame `start`, decided at `decided`, holding already
        `voiced` frames of which `loud` count, of total `power`, over a floor summed over its
        voiced frames to `floor_centi` (0.01 dB), its loudest part so far of mean power `peak`
        (full scale = 1)."""
        self.seg_start = start
        self._seg_voiced = voiced
        self._seg_loud = loud
        self._seg_power = power
        self._seg_peak = peak
        self._told_peak = 0.0
        self._seg_floor_sum = floor_centi
        self._seg_floor_n = voiced
        self._next_progress = decided + self.progress

    def add_run(
        self, events: list[DetectorEvent], base: int, start: int, end: int, opened: int = -1
    ) -> None:
        """Add the voiced frames [start, end) of the block to the open segment, sending the
        progress due inside them first: every PROGRESS_MS, and at each frame where the
        segment's loudest part rises by PEAK_RISE_DB (a talker begins over the noise: the
        engine must not judge it on a measurement from before). `opened`: the absolute frame
        the segment was decided at inside this run, where the progress its frames before made
        is sent at once (nothing is sent for a frame before a segment is known)."""
        peaks = self._window_power[start:end].copy()
        peaks[: max(0, self.settled - base - start)] = 0.0  # as in peak_power
        running = np.maximum.accumulate(peaks)
        self._run_peaks = (start, running)
        pos = start
        if opened >= 0:
            pos = opened - base
            if max(self._seg_peak, float(running[pos - start - 1])) > 0.0:
                self._progress_at(events, opened, base, start)
        while pos < end:
            # the first frame where the loudest part so far exceeds the last one sent by
            # PEAK_RISE (`running` never falls, and no frame before pos exceeds it)
            told = self._told_peak * PEAK_RISE
            rise = pos + int(np.searchsorted(running[pos - start :], told, "right"))
            if rise >= end:
                break
            due = self._next_progress
            if due <= base + rise + 1:  # the regular progress comes first (or at the same frame)
                self._progress_at(events, due, base, start)
                self._next_progress += self.progress
                pos = due - base  # and the rise is looked for again against it
            else:
                pos = rise + 1  # measured up to and with the rising frame
                self._progress_at(events, base + pos, base, start)
        self.progress_until(events, base + end, base, start)
        self._seg_voiced += end - start
        self._seg_loud += int(self._loud_cum[end] - self._loud_cum[start])
        self._seg_power += float(self._power_cum[end] - self._power_cum[start])
        self._seg_peak = max(self._seg_peak, float(running[-1]))
        self._run_peaks = None
        self._seg_floor_sum += self.floor_centi(start, end)
        self._seg_floor_n += end - start

    def progress_until(
        self, events: list[DetectorEvent], last: int, base: int, start: int | None
    ) -> None:
        """SpeechProgress of the open segment for every due frame up to `last` (absolute):
        inside a voiced run beginning at block index `start` whose frames are not yet added
        to the segment, or inside unvoiced frames (`start` None: nothing to add)."""
        while self._next_progress <= last:
            self._progress_at(events, self._next_progress, base, start)
            self._next_progress += self.progress

    def _progress_at(
        self, events: list[DetectorEvent], frame: int, base: int, start: int | None
    ) -> None:
        """One SpeechProgress: the open segment measured up to absolute `frame` (see
        progress_until for `start`)."""
        at = frame - base  # block index of the frame measured up to
        power, loud, peak = self._seg_power, self._seg_loud, self._seg_peak
        voiced, floor_sum, floor_n = self._seg_voiced, self._seg_floor_sum, self._seg_floor_n
        if start is not None and at > start:
            voiced += at - start
            power += float(self._power_cum[at] - self._power_cum[start])
            loud += int(self._loud_cum[at] - self._loud_cum[start])
            peak = max(peak, self.peak_power(base, start, at))
            floor_sum += self.floor_centi(start, at)
            floor_n += at - start
        floor = self._mean_floor(floor_sum, floor_n)
        events.append(SpeechProgress(self._measure(frame, voiced, power, loud, floor, peak), frame))
        self._told_peak = max(self._told_peak, peak)

    def loud_count(self, start: int, stop: int) -> int:
        """The loud frames among block frames [start, stop)."""
        return int(self._loud_cum[stop] - self._loud_cum[start])

    def power_sum(self, start: int, stop: int) -> float:
        """The power of the loud frames among block frames [start, stop) (full scale = 1)."""
        return float(self._power_cum[stop] - self._power_cum[start])

    def floor_centi(self, start: int, stop: int) -> int:
        """The floor summed over block frames [start, stop), in 0.01 dB."""
        return int(self._floor_cum[stop] - self._floor_cum[start])

    def peak_power(self, base: int, start: int, stop: int) -> float:
        """The highest mean power over the PEAK_MS ending at block frames [start, stop)
        (relative to full scale); frames before the floor has settled (FLOOR_SETTLED_MS) are
        not measured: against no floor, the first loud moment would stand out."""
        run = self._run_peaks
        if run is not None and run[0] == start and 0 < stop - start <= run[1].size:
            return float(run[1][stop - start - 1])  # the voiced run being added: its running max
        start = max(start, self.settled - base)
        if stop <= start:
            return 0.0
        return float(self._window_power[start:stop].max())

    def segment_until(self, end: int) -> Segment:
        """The open segment as a whole, ending at absolute frame `end` (exclusive)."""
        return self._measure(
            end,
            self._seg_voiced,
            self._seg_power,
            self._seg_loud,
            self._mean_floor(self._seg_floor_sum, self._seg_floor_n),
            self._seg_peak,
        )

    def _gaps_until(self, end: int) -> int:
        """Dropouts of the line (ivr.detect.dropouts) that ended inside the open segment before
        absolute frame `end` (one that ended where the segment starts cut the speech before it
        off): the same at a frame whatever the blocks, since a dropout is known at the frame it
        ends."""
        start = self.seg_start
        return sum(1 for f in self.dropouts if start <= f < end)

    def _mean_floor(self, centi_db: int, frames: int) -> float:
        """The floor (dBFS) a segment is measured against: the mean floor over its voiced
        frames (a single reading at its end would be one moment of a long segment, and noise
        that swells would stand out against the floor from before it), or the last floor when
        there are none."""
        if frames <= 0:
            return self.floor_at_last
        return centi_db / frames / 100.0

    def _measure(
        self, end: int, voiced: int, power: float, loud: int, floor: float, peak: float
    ) -> Segment:
        """The open segment up to absolute frame `end` (exclusive) with `voiced` frames, `loud`
        of them of total `power` over `floor` (dBFS), its loudest PEAK_MS of mean power `peak`
        (powers relative to full scale)."""
        floor_power = 10.0 ** (floor / 10.0)
        speech_power = max(power / max(1, loud) - floor_power, floor_power * _MIN_SNR, MIN_POWER)
        peak_snr = max(peak / floor_power - 1.0, _MIN_SNR)
        log10 = math.log10
        return Segment(  # start, end, level, SNR, floor, voiced frames, gaps, peak SNR
            self.seg_start,
            end,
            round(10.0 * log10(speech_power), 2),
            round(10.0 * log10(speech_power / floor_power), 2),
            round(floor, 2),
            voiced,
            self._gaps_until(end),
            round(10.0 * log10(peak_snr), 2),
        )

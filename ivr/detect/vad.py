"""Voice activity: webrtcvad decisions per frame, smoothed into speech segments.

webrtcvad says voiced / unvoiced for each 20 ms frame. The segmenter turns that into speech
that a person would count: it starts once `onset_ms` of voiced audio has been heard (a blip is
not speech) and ends after `hangover_ms` of unvoiced audio (a pause between words is not the
end). Work is done per run of equal decisions, not per frame, so it costs little.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_BYTES, SAMPLE_RATE, SILENCE_DBFS, ms_to_frames
from ivr.detect.level import MIN_POWER, dbfs_to_power, power_to_dbfs
from ivr.detect.settings import VadSettings
from ivr.events import DetectorEvent, Segment, SpeechEnded, SpeechStarted

MIN_SNR_DB = -30.0
"""Lowest signal-to-noise ratio reported for a segment (dB)."""


class VoiceActivity:
    """webrtcvad over blocks of frames: one voiced/unvoiced decision per 20 ms frame."""

    def __init__(self, aggressiveness: int) -> None:
        import webrtcvad

        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"vad.aggressiveness must be in 0..3, got {aggressiveness!r}")
        self._is_speech = webrtcvad.Vad(aggressiveness).is_speech

    def flags(self, frames: np.ndarray) -> np.ndarray:
        """Voiced decision of each frame of a (n, 320) int16 block, as a bool array."""
        raw = frames.tobytes()
        is_speech = self._is_speech
        decisions = [
            is_speech(raw[i : i + FRAME_BYTES], SAMPLE_RATE)
            for i in range(0, len(raw), FRAME_BYTES)
        ]
        return np.array(decisions, dtype=bool)


def runs(flags: np.ndarray) -> tuple[list[int], list[int], list[bool]]:
    """Runs of equal values: (starts, ends, values), ends exclusive."""
    n = flags.shape[0]
    change = np.flatnonzero(flags[1:] != flags[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    return starts.tolist(), ends.tolist(), flags[starts].tolist()


EDGE_SHIFT_MS = 160
"""Furthest a segment edge is moved by level (ms); see VadSettings.edge_margin_db."""


class SpeechSegmenter:
    """Onset and hangover smoothing of per-frame voiced decisions into speech segments.

    A segment starts at the first voiced frame of a candidate and is decided once the
    candidate holds `onset` voiced frames with no unvoiced gap of `onset` frames or more; it
    ends after its last voiced frame once `hangover` unvoiced frames follow. Its edges are then
    refined by level (VadSettings.edge_margin_db). Each segment's level is the mean power of
    its voiced frames with the noise floor's power subtracted.
    """

    def __init__(self, settings: VadSettings, gap_ms: int = 100) -> None:
        self.gap = max(1, ms_to_frames(gap_ms))
        self.onset = max(1, ms_to_frames(settings.onset_ms))
        self.hangover = max(1, ms_to_frames(settings.hangover_ms))
        self.edge_margin_db = settings.edge_margin_db
        self.edge_shift = ms_to_frames(EDGE_SHIFT_MS) if settings.edge_margin_db > 0 else 0
        # Frames of level-above-floor kept for edge refinement; lookups never reach further
        # back than this from the deciding frame, so results do not depend on chunking.
        self.history = self.hangover + 4 * self.onset + 2 * self.edge_shift + 16
        self.in_speech = False
        self._last_voiced = -(10**9)  # absolute index of the latest voiced frame
        self._prev_end = 0  # end of the previous segment: a start never moves before it
        self._cand_start: int | None = None
        self._cand_voiced = 0
        self._cand_power = 0.0
        self._seg_start = 0
        self._seg_voiced = 0
        self._seg_power = 0.0
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
    ) -> tuple[list[DetectorEvent], np.ndarray]:
        """Process a block starting at absolute frame `base`.

        `flags` are the voiced decisions, `powers` the frame powers (full scale = 1),
        `levels_db` the same in dBFS and `floor_db` the noise floor in force at each frame
        (dBFS). Returns the events decided in this block and the speech decision per frame as
        known at that frame (bool array).
        """
        n = flags.shape[0]
        speech = np.zeros(n, dtype=bool)
        events: list[DetectorEvent] = []
        if not n:
            return events, speech
        self._levels = np.concatenate((self._levels, levels_db))
        cum = np.concatenate(([0.0], np.cumsum(powers)))
        open_at = 0 if self.in_speech else None
        for start, end, voiced in zip(*runs(flags), strict=True):
            a, b = base + start, base + end
            if voiced:
                run_power = float(cum[end] - cum[start])
                if self.in_speech:
                    self._seg_voiced += end - start
                    self._seg_power += run_power
                    if a - (self._last_voiced + 1) >= self.gap:
                        self._seg_gaps += 1
                else:
                    if self._cand_start is None or a - (self._last_voiced + 1) >= self.onset:
                        self._cand_start, self._cand_voiced, self._cand_power = a, 0, 0.0
                    need = self.onset - self._cand_voiced
                    if end - start >= need:
                        decided = a + need
                        self.in_speech = True
                        self._start_floor = float(floor_db[decided - 1 - base])
                        self._seg_start = self._extend_start(self._cand_start, decided)
                        self._seg_voiced = self._cand_voiced + end - start
                        self._seg_power = self._cand_power + run_power
                        self._seg_gaps = 0
                        self._cand_start = None
                        events.append(SpeechStarted(self._seg_start, decided))
                        open_at = decided - 1 - base
                    else:
                        self._cand_voiced += end - start
                        self._cand_power += run_power
                self._last_voiced = b - 1
                self._floor_at_last = float(floor_db[end - 1])
            elif self.in_speech and b - (self._last_voiced + 1) >= self.hangover:
                decided = self._last_voiced + 1 + self.hangover
                events.append(SpeechEnded(self._close(decided), decided))
                speech[open_at : decided - 1 - base] = True
                open_at = None
        if open_at is not None:
            speech[open_at:] = True
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
        mean_power = self._seg_power / max(1, self._seg_voiced)
        floor_power = float(dbfs_to_power(self._floor_at_last))
        speech_power = max(
            mean_power - floor_power, floor_power * 10 ** (MIN_SNR_DB / 10), MIN_POWER
        )
        return Segment(
            start=self._seg_start,
            end=end,
            level_dbfs=round(float(power_to_dbfs(speech_power)), 2),
            snr_db=round(float(10 * np.log10(speech_power / floor_power)), 2),
            floor_dbfs=round(self._floor_at_last, 2),
            voiced_frames=self._seg_voiced,
            gaps=self._seg_gaps,
        )

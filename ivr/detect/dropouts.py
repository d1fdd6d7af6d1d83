"""Dropouts: the line cutting out inside speech, told from a talker's own pauses.

A dropout is an abrupt loss of the signal that comes back soon: packets lost in bursts, a
radio link fading, a handset's contact breaking. It is told by its edges, not by webrtcvad:
- the frame before it is speech, at least SPEECH_OVER_FLOOR_DB above the noise floor;
- the signal falls at once, from one frame to the next, by at least FALL_DB (measured on the
  high-passed signal: the band-pass rings for up to three frames after an abrupt stop), and
  is at the floor in the speech band (within LOST_MARGIN_DB of it) or digital silence (a frame
  of exact zeros: an erased packet) within EDGE_FRAMES;
- it stays there for `choppy_gap_ms` (60 ms) to MAX_DROPOUT_FRAMES (300 ms);
- and the frame after it is speech again (at least SPEECH_OVER_FLOOR_DB above the floor).

A pause between phrases (0.3-1.2 s) is longer, and a talker's voice fades into it over
several frames; an unvoiced consonant or a stop's closure is not at the floor, or is shorter
than 60 ms. A single lost 20 ms frame is concealed by any telephone packet-loss concealment
and is not counted. Measured on 150 s of real talkers (librivox, Asterisk's Allison, the
spoken digits), clean, through a telephone band-pass and through mu-law: no dropout at all;
with a third of the frames erased in bursts of 100-300 ms, 1.2 per second of audio.
Levels are those of the speech band (ivr.detect.band), so the band-pass's ringing after an
erasure does not hide it: an all-zero frame counts as digital silence whatever its level.
The decision is made at the frame the signal comes back, from the frames before it alone:
the same whatever the block size.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import SILENCE_DBFS

SPEECH_OVER_FLOOR_DB = 15.0
"""The frames on both sides of a dropout stand at least this much above the floor (dB)."""

FALL_DB = 30.0
"""Least fall of the level from one frame to the next into a loss (dB, high-passed signal):
a talker's voice falls 10-25 dB from one 20 ms frame to the next into a short pause (22 dB
seen at a stop's closure), a lost packet to the floor 30-45 dB, to digital silence more."""

LOST_MARGIN_DB = 3.0
"""A frame at most this much above the floor (dB), or of exact zeros, is lost."""

MAX_DROPOUT_FRAMES = 15
"""Longest dropout (frames, 300 ms): the line comes back within about 300 ms; a longer
silence is a pause. A dropout that ends a speech segment (webrtcvad's hangover_ms, 300 ms) is
counted in the segment that starts where it ends."""


class DropoutDetector:
    """Finds dropouts frame by frame, block by block (state carried between blocks)."""

    def __init__(self, min_frames: int) -> None:
        self.min_frames = max(1, min_frames)
        """Shortest loss counted (frames)."""
        self._prev_lost = True  # whether the frame before the block was lost
        self._prev_full = np.full(EDGE_FRAMES + 1, SILENCE_DBFS)  # full-band levels before it
        self._loss_start: int | None = None  # first frame of a dropout going on (absolute)

    def feed(
        self,
        base: int,
        levels: np.ndarray,
        floor: np.ndarray,
        silent: np.ndarray,
        wideband: np.ndarray,
    ) -> list[int]:
        """The absolute frames at which a dropout ended (the signal back) in the block at
        `base`, from its frame `levels` and `floor` in the speech band (dBFS), whether each
        frame is digital silence (`silent`) and the levels of the high-passed frames, full band
        (`wideband`, dBFS, digital silence at SILENCE_DBFS: for the fall, as the band-pass
        rings after an abrupt stop; ivr.detect.highpass.HighPassed.wide_levels)."""
        level = np.where(silent, np.float32(SILENCE_DBFS), levels)
        lost = silent | (level <= floor + np.float32(LOST_MARGIN_DB))
        speech = level >= floor + np.float32(SPEECH_OVER_FLOOR_DB)
        ends: list[int] = []
        # only frames where lost begins or ends matter: few, so a loop over them is cheap
        previous = np.concatenate(([self._prev_lost], lost[:-1]))
        edges = np.flatnonzero(lost != previous)
        for i in edges.tolist():
            if lost[i]:  # the signal is lost from frame i on
                fell = self._fell(wideband, i, float(floor[i]))
                self._loss_start = None if fell is None else base + fell
            elif self._loss_start is not None:  # back at frame i
                length = base + i - self._loss_start
                if self.min_frames <= length <= MAX_DROPOUT_FRAMES and speech[i]:
                    ends.append(base + i)
                self._loss_start = None
        if self._loss_start is not None and base + lost.size - self._loss_start > (
            MAX_DROPOUT_FRAMES
        ):
            self._loss_start = None  # too long: a pause, not a dropout
        if lost.size:
            self._prev_lost = bool(lost[-1])
            keep = EDGE_FRAMES + 1
            self._prev_full = np.concatenate((self._prev_full, wideband[-keep:]))[-keep:]
        return ends

    def _fell(self, wideband: np.ndarray, i: int, floor: float) -> int | None:
        """Where the signal fell abruptly into the loss seen in the band from block frame `i`
        on: the block index of the last of the EDGE_FRAMES + 1 frames up to `i` that is FALL_DB
        below the frame before it while that frame was speech (SPEECH_OVER_FLOOR_DB over the
        band's floor, measured full band), or None."""
        first = i - EDGE_FRAMES - 1  # block index of the first frame looked at
        full = wideband[max(0, first) : i + 1]
        if first < 0:  # frames of the block before
            full = np.concatenate((self._prev_full[self._prev_full.size + first :], full))
        falls = full[:-1] - full[1:]
        loud = full[:-1] >= floor + SPEECH_OVER_FLOOR_DB
        hits = np.flatnonzero((falls >= FALL_DB) & loud)
        return None if not hits.size else i - (full.size - 2 - int(hits[-1]))


EDGE_FRAMES = 3
"""Frames before a loss in the speech band looked at for the abrupt fall (full band): the
band-pass rings for up to three frames after the line stops. The dropout is timed from the
fall."""

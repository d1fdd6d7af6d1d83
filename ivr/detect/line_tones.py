"""The network's call-progress tones, the special information tone and the beep of an
answering machine, on the 8 kHz band.

China's tones, all at 450 Hz, as the `[cn]` section of Asterisk's `indications.conf` gives
them (`ring = 450/1000,0/4000`, `busy = 450/350,0/350`, `congestion = 450/700,0/700`, as
frequency/ms pairs; the national figures ITU-T E.180 Supplement 2 collects):
- ringback (回铃音) 1 s on, 4 s off;
- busy (忙音) 0.35 s on, 0.35 s off;
- congestion (拥塞音) 0.7 s on, 0.7 s off.
The special information tone (ITU-T E.180 section 2.5 / Q.35) is three tones of 950, 1400 and
1800 Hz (±50 Hz), 330 ± 70 ms each, with gaps of up to 30 ms; carriers play it before a
recorded announcement.

Frame by frame, ivr.detect.tone_frames tells which frames hold a single tone: a bank tone's
nominal frequency (450, 950, 1400, 1800 Hz) or a beep's measured one.
A frame up to EDGE_FRAMES between a tone and the silence after or before it (partly tone, and
not yet quiet) counts as part of the silence. Runs of such frames make the patterns:
- ringback: a 450 Hz run of 0.8-1.25 s, then silence (TONE_QUIET_DB below the tone) for 3.2 s:
  decided 3.2 s into the first off period, about 4.2 s after the tone began;
- busy, congestion: on, off, on of 0.24-0.46 s (busy) or 0.56-0.84 s (congestion) each:
  decided at the end of the second on period, about 1.05 s or 2.1 s after the first began;
- sit: the three tones in order, each 0.2-0.45 s, gaps of at most two frames: decided at the
  end of the third;
- beep: a single tone of 300-3000 Hz (not 425-475 Hz, the cadence tones' band) lasting
  60 ms-2 s, followed by BEEP_AFTER_FRAMES frames of silence: decided then.
Anything loud that is not the tone (speech over a hum, music) breaks a pattern, so a 450 Hz hum,
on its own (no off periods) or under speech, is never a cadence. Each kind is reported at most
once per REPORT_AGAIN_S. From the MASK_AFTER_FRAMES-th frame of a run of tone frames on, they
are kept from counting as speech: a frame or two of speech that looks like a tone stays speech.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ivr.audio.format import FRAME_S
from ivr.detect.tone_frames import pure_tones
from ivr.events import ToneHeard

if TYPE_CHECKING:
    from ivr.detect.nominal import NominalPowers

EDGE_FRAMES = 2
"""Frames between a tone and silence that may be neither (a period's edge frames)."""
MASK_AFTER_FRAMES = 3
"""Tone frames in a row from which on they are not speech."""
TONE_QUIET_DB = 12.0
"""An off period is this far (dB) or more below the tone's level."""
CADENCE_HZ, CADENCE_TOLERANCE_HZ = 450.0, 25.0
"""The cadence tones' frequency and the deviation accepted (Hz)."""
RINGBACK_ON_S, RINGBACK_OFF_S = (0.8, 1.25), 3.2
"""Ringback: its on period (s, range) and the off period (s) after which it is decided."""
BUSY_S, CONGESTION_S = (0.24, 0.46), (0.56, 0.84)
"""On and off periods of busy and congestion tones (s, ranges around 0.35 s and 0.7 s: a
period's edge frames are only partly tone)."""
SIT_HZ, SIT_TOLERANCE_HZ, SIT_SEGMENT_S = (950.0, 1400.0, 1800.0), 50.0, (0.2, 0.45)
"""The special information tone's frequencies (Hz), their tolerance (Hz), segment length (s)."""
SIT_GAP_FRAMES = 2
"""Longest gap between the special information tone's segments (frames)."""
BEEP_HZ, BEEP_S = (300.0, 3000.0), (0.06, 2.0)
"""A beep's frequency (Hz) and length (s) ranges."""
BEEP_AFTER_FRAMES = 3
"""Frames without the tone after which a beep is over."""
SAME_TONE = 0.03
"""Frames within this relative frequency of a run's first frame continue the run."""
REPORT_AGAIN_S = 10.0
"""A kind is reported again only this long (s) after it was reported."""
NETWORK_TONES = ("ringback", "busy", "congestion")
"""The tones that say a call reached no one: it ends as `network_tone`."""

_OTHER, _QUIET, _TONE = 0, 1, 2
_TAIL_FRAMES = 8  # a block's last frames, always looked at one by one


def _frames(seconds: float) -> int:
    return round(seconds / FRAME_S)


_PENDING_FRAMES = _frames(RINGBACK_OFF_S) + BEEP_AFTER_FRAMES
"""Frames after a tone during which a pattern may still be decided (ringback's off period, a
beep's end)."""


def _run_lengths(flags: np.ndarray, carry: int) -> np.ndarray:
    """For each frame, how many frames in a row up to it are set (0 where unset); `carry`: the
    run open at the block's start."""
    index = np.arange(flags.size)
    last_gap = np.maximum.accumulate(np.where(flags, -1, index))  # the last unset frame
    run = np.where(last_gap >= 0, index - last_gap, index + 1 + carry)
    return np.where(flags, run, 0)


def _since_last(flags: np.ndarray, since: int) -> int:
    """Frames since the last set frame, at the block's end; `since`: the same at its start."""
    held = np.flatnonzero(flags)
    return flags.size - 1 - int(held[-1]) if held.size else since + flags.size


class ToneDetector:
    """Line tones in blocks of narrow-band frames, fed in order (results do not depend on how
    the frames are cut into blocks)."""

    def __init__(self) -> None:
        self._runs: list[list] = []  # closed runs: [class, start frame, frames, freq Hz]
        self._run: list | None = None  # the open run
        self._tone_dbfs = 0.0  # level of the last tone run (dBFS)
        self._last: dict[str, int] = {}  # kind -> frame it was last reported at
        self._events: list[ToneHeard] = []
        self._tone_run = 0  # tone frames in a row up to the last frame seen
        self._since_tone = 1 << 30  # frames since the last tone frame
        self._cadence_run = 0  # 450 Hz frames in a row up to the last frame seen
        self._since_burst = 1 << 30  # frames since the last frame of a cadence burst
        self._block: tuple[int, np.ndarray, int] = (0, np.zeros(0, bool), 1 << 30)
        """The last block: its base, its cadence burst frames, frames since one before it."""

    def process(
        self,
        base: int,
        narrow: np.ndarray,
        level_dbfs: np.ndarray,
        nominal: NominalPowers,
    ) -> tuple[np.ndarray, list[ToneHeard]]:
        """Frames base .. base+n-1: (tone, events) — per frame whether it is a pure tone (no
        speech), and the tones recognized in the block (a list of ToneHeard); `nominal` as for
        pure_tones."""
        freq = pure_tones(narrow, nominal)
        tone = freq > 0
        toned = bool(tone.any())
        if toned:
            # each frame's reference: the level of the last tone frame up to it (dBFS)
            last = np.maximum.accumulate(np.where(tone, np.arange(tone.size), -1))
            reference = np.where(last >= 0, level_dbfs[np.maximum(last, 0)], self._tone_dbfs)
            self._tone_dbfs = float(level_dbfs[last[-1]])
        else:  # most blocks: the reference is the last tone's level before them
            reference = level_dbfs.dtype.type(self._tone_dbfs)
        quiet = ~tone & (level_dbfs <= reference - TONE_QUIET_DB)
        classes = np.where(tone, _TONE, np.where(quiet, _QUIET, _OTHER)).astype(np.int8)
        self._events = []
        start = 0
        if classes.size > _TAIL_FRAMES and self._since_tone > _PENDING_FRAMES and not toned:
            start = self._skip(base, classes.size - _TAIL_FRAMES)
        self._cadence_frames(base, tone, freq, toned)
        self._since_tone = (
            _since_last(tone, self._since_tone) if toned else (self._since_tone + tone.size)
        )
        head = start
        for change in [*self._changes(classes[head:], freq[head:]), classes.size - head]:
            stop = head + change
            if stop > start:
                self._extend(base, start, stop, int(classes[start]), freq)
            start = stop
        return self._mask(tone, toned), self._events

    def _skip(self, base: int, count: int) -> int:
        """Long after the last tone, a block's first `count` frames hold none: nothing can be
        decided in them and no pattern looks into them but to see that they are no tone, so
        they become one run (of no tone) without being looked at frame by frame. Returns
        `count`."""
        run = self._run
        if run is not None and run[0] == _OTHER and run[1] + run[2] == base:
            run[2] += count
        else:
            if run is not None and run[2] > 0:
                self._close(run, base)
            self._run = [_OTHER, base, count, 0.0]
        return count

    def _mask(self, tone: np.ndarray, toned: bool) -> np.ndarray:
        """Tone frames that are the MASK_AFTER_FRAMES-th or later of a run of them (`toned`:
        whether there is any)."""
        if not toned:
            self._tone_run = 0 if tone.size else self._tone_run
            return tone
        run = _run_lengths(tone, self._tone_run)
        self._tone_run = int(run[-1]) if tone.size else self._tone_run
        return tone & (run >= MASK_AFTER_FRAMES)

    def _cadence_frames(self, base: int, tone: np.ndarray, freq: np.ndarray, toned: bool) -> None:
        """Keep the block's frames of a 450 Hz run already as long as a busy tone's shortest
        burst: what a pending cadence (ringback above all) is known by (`toned`: whether the
        block has any tone frame)."""
        if not toned:  # no cadence frame, no burst
            self._cadence_run = 0 if tone.size else self._cadence_run
            self._block = (base, np.zeros(tone.size, dtype=bool), self._since_burst)
            self._since_burst += tone.size
            return
        cadence = tone & (np.abs(freq - CADENCE_HZ) <= CADENCE_TOLERANCE_HZ)
        run = _run_lengths(cadence, self._cadence_run)
        self._cadence_run = int(run[-1]) if cadence.size else self._cadence_run
        burst = cadence & (run >= _frames(BUSY_S[0]))
        self._block = (base, burst, self._since_burst)
        self._since_burst = _since_last(burst, self._since_burst)

    def quiet_from(self, first: int) -> int | None:
        """The first frame of the last block, at or after absolute frame `first`, by which no
        cadence burst has come for longer than ringback's off period and a beep's end: no
        cadence can be pending there (speech's odd pure frame or a beep does not count). None
        if there is none."""
        base, burst, since = self._block
        index = np.arange(burst.size)
        last = np.maximum.accumulate(np.where(burst, index, -1 - since))
        rest = np.flatnonzero((index - last > _PENDING_FRAMES) & (index >= first - base))
        return base + int(rest[0]) if rest.size else None

    @property
    def at_rest(self) -> bool:
        """Whether no pattern can still be decided without a new tone: the open run is no tone
        and has lasted longer than any wait after a tone (ringback's off period, a beep's end)."""
        run = self._run
        return run is None or (run[0] != _TONE and run[2] > _PENDING_FRAMES)

    @staticmethod
    def _changes(classes: np.ndarray, freq: np.ndarray) -> list[int]:
        """Where a run of frames of one class (and, for tones, one frequency) ends."""
        n = classes.size
        if n < 2:
            return []
        jump = np.abs(freq[1:] - freq[:-1]) > SAME_TONE * np.maximum(freq[:-1], 1.0)
        change = (classes[1:] != classes[:-1]) | ((classes[1:] == _TONE) & jump)
        return (np.flatnonzero(change) + 1).tolist()

    def _extend(self, base: int, start: int, stop: int, cls: int, freq: np.ndarray) -> None:
        """Frames base+start .. base+stop-1, all of class `cls`: the open run grows, or a new
        one begins."""
        run = self._run
        first = base + start
        f = float(freq[start])
        same = (
            run is not None
            and run[0] == cls
            and run[1] + run[2] == first
            and (cls != _TONE or abs(f - run[3]) <= SAME_TONE * run[3])
        )
        if not same and run is not None and self._edge(run, cls, first):
            run = self._run  # the edge frames were taken into the silence
            same = cls == _QUIET
        if not same:
            if run is not None and run[2] > 0:
                self._close(run, first)
            run = self._run = [cls, first, 0, f]
        run[2] += stop - start
        if cls == _QUIET:
            self._quiet_going_on(run)
        if cls != _TONE:
            self._beep_after(run)

    def _edge(self, run: list, cls: int, first: int) -> bool:
        """The open run is EDGE_FRAMES or fewer frames neither tone nor quiet, between a tone and
        silence (`cls` begins at `first`): count them as part of the silence."""
        if run[0] != _OTHER or run[2] > EDGE_FRAMES or run[1] + run[2] != first or not self._runs:
            return False
        before = self._runs[-1]
        if before[1] + before[2] != run[1]:
            return False
        if before[0] == _TONE and cls == _QUIET:
            run[0] = _QUIET  # the silence begins at the edge
            return True
        if before[0] == _QUIET and cls == _TONE:
            self._runs.pop()
            before[2] += run[2]  # the silence ends at the edge
            self._run = before
            return True
        return False

    def _close(self, run: list, now: int) -> None:
        """A run ended at frame `now`: keep it, and look for the patterns it completes."""
        self._runs.append(run)
        del self._runs[:-8]
        if run[0] == _TONE:
            self._cadence_end(run, now)
            self._sit_end(now)

    def _report(self, kind: str, frame: int, decided: int, freq: float) -> None:
        last = self._last.get(kind)
        if last is not None and decided - last < _frames(REPORT_AGAIN_S):
            return
        self._last[kind] = decided
        self._events.append(ToneHeard(kind, frame, decided, round(freq, 1)))

    @staticmethod
    def _cadence(run: list) -> bool:
        return run[0] == _TONE and abs(run[3] - CADENCE_HZ) <= CADENCE_TOLERANCE_HZ

    def _cadence_end(self, on2: list, now: int) -> None:
        """A tone ended at `now`: busy or congestion if on, off, on fit."""
        if len(self._runs) < 3 or not self._cadence(on2):
            return
        on1, off = self._runs[-3], self._runs[-2]
        if not (self._cadence(on1) and off[0] == _QUIET):
            return
        for kind, (low, high) in (("busy", BUSY_S), ("congestion", CONGESTION_S)):
            if all(_frames(low) <= r[2] <= _frames(high) for r in (on1, off, on2)):
                self._report(kind, on1[1], now + 1, on2[3])

    def _quiet_going_on(self, off: list) -> None:
        """Silence goes on: ringback once it follows a 1 s tone for RINGBACK_OFF_S."""
        if off[2] < _frames(RINGBACK_OFF_S) or not self._runs:
            return
        on = self._runs[-1]
        low, high = RINGBACK_ON_S
        if self._cadence(on) and _frames(low) <= on[2] <= _frames(high) and on[1] + on[2] == off[1]:
            decided = off[1] + _frames(RINGBACK_OFF_S)
            self._report("ringback", on[1], decided, on[3])

    def _sit_end(self, now: int) -> None:
        """A tone ended: the special information tone if it was the last of the three."""
        tones = []
        for run in reversed(self._runs):
            if run[0] == _TONE:
                tones.append(run)
                if len(tones) == 3:
                    break
            elif run[2] > SIT_GAP_FRAMES:
                return
        if len(tones) < 3:
            return
        low, high = (_frames(s) for s in SIT_SEGMENT_S)
        for run, hz in zip(reversed(tones), SIT_HZ, strict=True):
            if abs(run[3] - hz) > SIT_TOLERANCE_HZ or not low <= run[2] <= high:
                return
        self._report("sit", tones[-1][1], now + 1, tones[-1][3])

    def _beep_after(self, after: list) -> None:
        """Silence goes on: a beep if a lone tone of a beep's length came before (a machine
        records in silence after its beep; a note of music goes on into more music)."""
        if after[0] != _QUIET or after[2] < BEEP_AFTER_FRAMES or not self._runs:
            return
        beep = self._runs[-1]
        if beep[0] != _TONE or beep[1] + beep[2] != after[1] or not self._lone(len(self._runs) - 1):
            return
        low_hz, high_hz = BEEP_HZ
        low, high = (_frames(s) for s in BEEP_S)
        cadence_band = abs(beep[3] - CADENCE_HZ) <= CADENCE_TOLERANCE_HZ
        if low_hz <= beep[3] <= high_hz and low <= beep[2] <= high and not cadence_band:
            self._report("beep", beep[1], after[1] + BEEP_AFTER_FRAMES, beep[3])

    def _lone(self, at: int) -> bool:
        """Whether the tone run `self._runs[at]` follows no other tone within SIT_GAP_FRAMES
        (the last segment of a special information tone is no beep)."""
        before = self._runs[at - 1] if at >= 1 else None
        if before is None or before[1] + before[2] != self._runs[at][1]:
            return True
        if before[0] == _TONE:
            return False
        earlier = self._runs[at - 2] if at >= 2 else None
        return not (
            before[2] <= SIT_GAP_FRAMES
            and earlier is not None
            and earlier[0] == _TONE
            and earlier[1] + earlier[2] == before[1]
        )

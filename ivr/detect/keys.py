"""In-band telephone keys (DTMF): a DFT bank at the eight DTMF frequencies on the 8 kHz band,
judged by the limits of ITU-T Q.24 as common detectors apply them.

Each 20 ms frame gives two 20 ms analysis windows at 10 ms hops (the second half of the frame
before with the first half of this one, then this frame): a key tone of 40 ms fills at least two
windows back to back wherever it starts, one of 20 ms at most one. A window holds a key when
- the strongest low-group (697-941 Hz) and high-group (1209-1633 Hz) tones together carry at
  least TONE_SHARE of its energy (speech, music and noise spread theirs), each at least
  MIN_TONE_DBFS;
- each stands GROUP_MARGIN_DB above the next tone of its group;
- the twist is within limits: the high group at most NORMAL_TWIST_DB below the low group, at
  most REVERSE_TWIST_DB above it (the figures of Asterisk's `dsp.c` detector, after Q.24's
  table of administrations' limits).
A 20 ms window has 50 Hz bins, so each tone is looked for at its frequency and 1.5 % either
side (FREQUENCY_TOLERANCE): a key within 1.5 % keeps nearly all its power in one of them; one
off by 5 % (35-80 Hz) leaves most outside and fails the energy share. Between the two the
window cannot tell: for the low group 3.5 % is only 24-33 Hz, under half a bin.

Timing (Q.24: a signal of 40 ms or more is accepted, one under about 23 ms rejected; a pause of
40 ms separates two keys): a key is registered when two windows in a row hold it, decided at the
frame that completes the second; it is registered once however long it lasts; the same key again
needs PAUSE_WINDOWS windows without it in between.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ivr.detect.narrowband import NARROW_SAMPLES, tone_bank, tone_powers
from ivr.events import KeyPressed

if TYPE_CHECKING:
    from ivr.detect.nominal import NominalPowers

LOW_HZ = (697.0, 770.0, 852.0, 941.0)
"""The DTMF row frequencies (Hz)."""
HIGH_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
"""The DTMF column frequencies (Hz)."""
KEYPAD = ("123A", "456B", "789C", "*0#D")
"""The key of each (row, column)."""

TONE_SHARE = 0.8
"""Share of a window's energy the two tones must carry (0..1): about 0.99 for a clean key,
0.9 for a key 10 dB above speech; a tone covering under three quarters of the window fails."""
MIN_TONE_DBFS = -36.0
"""Lowest level of each tone (dBFS): far below the -10..-25 dBFS keys are sent at."""
GROUP_MARGIN_DB = 8.0
"""How far each tone must stand above the next one of its group (dB); a tone leaks about
-13 dB into the neighbouring frequency of a 20 ms window."""
NORMAL_TWIST_DB = 8.0
"""Largest amount the high-group tone may lie below the low-group one (dB)."""
REVERSE_TWIST_DB = 4.0
"""Largest amount the high-group tone may lie above the low-group one (dB)."""
MIN_WINDOW_DBFS = MIN_TONE_DBFS
"""Windows quieter than this (dBFS) are not analysed at all."""

FREQUENCY_TOLERANCE = 0.015
"""Relative frequency error accepted (Q.24: keys within 1.5 % are detected): each tone is
looked for at its nominal frequency and this far either side of it, and the best is taken."""

_NOMINAL = np.array(LOW_HZ + HIGH_HZ)
_FREQS = np.concatenate(
    [_NOMINAL * (1 + d) for d in (-FREQUENCY_TOLERANCE, 0.0, FREQUENCY_TOLERANCE)]
)
_BANK = tone_bank(_FREQS)
_MIN_POWER = 10 ** (MIN_TONE_DBFS / 10) * 32768.0**2
_SECOND_RATIO = 10 ** (GROUP_MARGIN_DB / 10)
_NORMAL = 10 ** (-NORMAL_TWIST_DB / 10)
_REVERSE = 10 ** (REVERSE_TWIST_DB / 10)
_NONE = -1

SCREEN_SHARE = 0.15
"""The windows around a frame are looked at only when the frame's strongest row and column
tone at their nominal frequencies carry this share of its energy (0..1). A tone 1.5 % off
keeps 0.4 of its power there, and a window a key fills to TONE_SHARE fills at least 40 % of
one of the two frames it overlaps: so every window that can hold a key is looked at, while
most speech costs a sixth of the bank (half the windows, a third of the frequencies)."""

PAUSE_WINDOWS = 4
"""Windows (10 ms hops) without the key that release it. A window fails once a gap takes more
than 64 of its 320 samples: a 10 ms dropout inside a key's tone (Q.24: interruptions of up to
10 ms are not pauses) fails at most three windows in a row, so it does not make a second
press, while Q.24's 40 ms pause between keys fails at least five."""


def screened_frames(nominal: NominalPowers, n: int) -> np.ndarray:
    """Which of a block's `n` frames may have a key in them or next to them (SCREEN_SHARE),
    from their powers at the nominal frequencies."""
    out = np.zeros(n, dtype=bool)
    energy = nominal.energy[nominal.loud]
    power = nominal.power
    strong = energy >= _MIN_POWER
    share = power[:, :4].max(axis=1) + power[:, 4:8].max(axis=1)
    out[nominal.loud[strong & (share >= SCREEN_SHARE * energy)]] = True
    return out


def window_keys(windows: np.ndarray) -> np.ndarray:
    """The key code (row * 4 + column, or -1) each (m, 160) narrow-band window holds."""
    codes = np.full(windows.shape[0], _NONE, dtype=np.int8)
    energy = np.einsum("ij,ij->i", windows, windows) / NARROW_SAMPLES
    loud = np.flatnonzero(energy >= 2 * _MIN_POWER)
    if loud.size == 0:
        return codes
    every = tone_powers(windows[loud], _BANK)
    power = every.reshape(-1, 3, 8).max(axis=1)  # each tone at its best of three frequencies
    lo, hi = power[:, :4].max(axis=1), power[:, 4:].max(axis=1)
    ok = (
        (lo + hi >= TONE_SHARE * energy[loud])
        & (lo >= _MIN_POWER)
        & (hi >= _MIN_POWER)
        & (hi >= _NORMAL * lo)
        & (hi <= _REVERSE * lo)
    )
    held = np.flatnonzero(ok)
    if held.size == 0:  # speech: most windows fail the energy share
        return codes
    # each tone must stand out of its group: the group's second tone well below it
    low, high = np.sort(power[held, :4], axis=1), np.sort(power[held, 4:], axis=1)
    clear = (low[:, 3] >= _SECOND_RATIO * low[:, 2]) & (high[:, 3] >= _SECOND_RATIO * high[:, 2])
    held = held[clear]
    rows, columns = power[held, :4].argmax(axis=1), power[held, 4:].argmax(axis=1)
    codes[loud[held]] = (rows * 4 + columns).astype(np.int8)
    return codes


class DtmfDetector:
    """Keys in blocks of narrow-band frames, fed in order (results do not depend on how the
    frames are cut into blocks)."""

    def __init__(self) -> None:
        self._half = np.zeros(NARROW_SAMPLES // 2, dtype=np.float32)  # the last frame's end
        self._code = _NONE  # the key of the last window
        self._run = 0  # windows in a row holding it
        self._start = 0  # the frame its first window began in
        self._key = _NONE  # the key registered last, until it is released
        self._gap = 0  # windows since the registered key was last held
        self._look_next = False  # the next block's first window is to be looked at

    def _codes(self, narrow: np.ndarray, look: np.ndarray) -> np.ndarray:
        """The key code of each of the block's 2n windows (window 2f: the second half of frame
        f-1 and the first of frame f; window 2f+1: frame f), looking only at windows `look`."""
        codes = np.full(2 * narrow.shape[0], _NONE, dtype=np.int8)
        if look.size == 0:
            return codes
        half = NARROW_SAMPLES // 2
        # window w >= 1: the 160 samples from sample 80 (w - 1) of the block on (a view of
        # them all, gathered); window 0 begins in the block before
        flat = np.ascontiguousarray(narrow).reshape(-1)
        step = flat.strides[0] * half
        starts = as_strided(
            flat, (2 * narrow.shape[0] - 1, NARROW_SAMPLES), (step, flat.strides[0])
        )
        windows = starts[np.maximum(look - 1, 0)]
        if look[0] == 0:
            windows[0, :half] = self._half
            windows[0, half:] = narrow[0, :half]
        codes[look] = window_keys(windows)
        return codes

    def _no_key(self, count: int) -> None:
        """`count` windows in a row that hold no key."""
        if count <= 0:
            return
        if self._key != _NONE:
            self._gap += count
            if self._gap >= PAUSE_WINDOWS:
                self._key = _NONE  # a pause: the key was released
        self._code, self._run = _NONE, 0

    def _window(self, code: int, w: int, base: int, keys: list[KeyPressed]) -> None:
        """Window `w` of the block holds key `code`: the key goes on, or counts towards a new
        press (registered at its second window in a row)."""
        if code == self._key:
            self._gap = 0  # the registered key goes on
        elif self._key != _NONE:
            self._gap += 1
            if self._gap >= PAUSE_WINDOWS:
                self._key = _NONE
        if code != self._code:
            self._code, self._run = code, 0
            self._start = base + w // 2 - (1 - w % 2)  # a first window begins half a frame back
        if code == self._key:
            return
        self._run += 1
        if self._run == 2:
            row, column = divmod(code, 4)
            start = max(self._start, 0)
            keys.append(KeyPressed(KEYPAD[row][column], start, base + w // 2 + 1))
            self._key, self._gap = code, 0

    def process(
        self, base: int, narrow: np.ndarray, nominal: NominalPowers
    ) -> tuple[np.ndarray, list[KeyPressed]]:
        """Frames base .. base+n-1 as (n, 160) narrow-band frames, with their powers at the
        nominal frequencies: (tone, keys) — per frame whether a key tone is in it, and the keys
        registered in the block."""
        n = narrow.shape[0]
        frames = np.flatnonzero(screened_frames(nominal, n))
        look = np.zeros(2 * n + 1, dtype=bool)  # a frame's windows and the next one
        look[2 * frames] = look[2 * frames + 1] = look[2 * frames + 2] = True
        look[0] |= self._look_next
        self._look_next = bool(look[2 * n])
        codes = self._codes(narrow, np.flatnonzero(look[: 2 * n]))
        self._half = narrow[-1, NARROW_SAMPLES // 2 :].copy()
        tone = np.zeros(n, dtype=bool)
        keys: list[KeyPressed] = []
        held = np.flatnonzero(codes != _NONE)
        if held.size == 0 and self._code == _NONE and self._key == _NONE:
            return tone, keys
        # a frame is a key tone when one of its own two windows holds the key (the half of
        # the frame before that window 2f also covers may be in a block already given out)
        tone[held // 2] = True
        done = 0  # windows of the block taken into the state so far
        for w in held.tolist():
            self._no_key(w - done)
            self._window(int(codes[w]), w, base, keys)
            done = w + 1
        self._no_key(2 * n - done)
        return tone, keys

"""Which narrow-band frames hold a single tone, and at what frequency: the frame-by-frame part
of the line's tone detector (ivr.detect.line_tones).

A frame is a tone when
- a DFT bank at the cadence tone (450 Hz, and 20 Hz either side) or at one of the special
  information tone's frequencies (each, and 25 Hz either side) finds TONE_SHARE of the frame's
  energy in one frequency (speech, music and noise spread theirs): the tone's nominal
  frequency; this holds down to MIN_TONE_DBFS with line noise 10 dB below the tone;
- or else its samples follow the two-term recurrence x[n-1] + x[n+1] = 2 cos(w) x[n] of a single
  sinusoid to within PURE_RESIDUAL of their energy (least squares): a beep of any frequency,
  which the recurrence gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ivr.detect.narrowband import NARROW_RATE, NARROW_SAMPLES, tone_bank, tone_powers

if TYPE_CHECKING:
    from ivr.detect.nominal import NominalPowers

TONE_SHARE = 0.8
"""Share of a frame's energy a bank frequency must carry to make it a tone (0..1): a tone 10 dB
above line noise carries about 0.9, speech rarely half of it."""
BANK_HZ = (
    (450.0, (-20.0, 0.0, 20.0)),
    (950.0, (-25.0, 0.0, 25.0)),
    (1400.0, (-25.0, 0.0, 25.0)),
    (1800.0, (-25.0, 0.0, 25.0)),
)
"""The bank's tones (Hz) and the offsets (Hz) each is also looked for at: a 20 ms frame has
50 Hz bins, so a tone between two of them keeps most of its power in the nearer."""
PURE_RESIDUAL = 0.01
"""Largest share of a frame's energy the single-sinusoid recurrence may leave unexplained."""
CURVATURE_RESIDUAL = 0.1
"""... and largest share of the energy of its second difference: low-pass speech is explained
well by any low frequency, but not its curvature (about 1 % of real speech frames pass)."""
MIN_TONE_DBFS = -45.0
"""Quietest tone heard (dBFS): call-progress tones reach a line at -10 to -30 dBFS."""
_NOMINAL = np.repeat([hz for hz, _ in BANK_HZ], 3).astype(np.float32)
_FREQS = np.array([hz + d for hz, offsets in BANK_HZ for d in offsets])
_BANK = tone_bank(_FREQS)
SCREEN_SHARE = 0.25
"""A frame gets the whole bank only when one nominal frequency carries this share of its energy
(0..1): a tone 25 Hz off keeps 0.4 of its power there, so one that passes TONE_SHARE always
does; most speech does not."""


def pure_tones(narrow: np.ndarray, nominal: NominalPowers) -> np.ndarray:
    """Each narrow-band frame's tone frequency (Hz): a bank tone's nominal frequency, a beep's
    measured one, or 0 when the frame is not a tone; `nominal`: the frames' powers at the
    nominal frequencies (its loud frames are those at or above MIN_TONE_DBFS)."""
    freq = np.zeros(narrow.shape[0], dtype=np.float32)
    loud = nominal.loud
    if loud.size == 0:
        return freq
    x = narrow[loud]
    energy = nominal.energy[loud] + 1e-9
    screened = np.flatnonzero(nominal.power[:, 8:].max(axis=1) >= SCREEN_SHARE * energy)
    if screened.size:
        power = tone_powers(x[screened], _BANK)
        best = np.argmax(power, axis=1)
        hit = power[np.arange(screened.size), best] >= TONE_SHARE * energy[screened]
        banked = screened[hit]
        if banked.size:
            freq[loud[banked]] = _NOMINAL[best[hit]]
            rest = np.ones(loud.size, dtype=bool)
            rest[banked] = False
            x, energy, loud = x[rest], energy[rest], loud[rest]
    freq[loud] = _recurrence(x, energy * NARROW_SAMPLES)
    return freq


def _recurrence(x: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Each frame's frequency (Hz) if it follows a single sinusoid's recurrence, else 0.

    The least-squares fit of x[n-1] + x[n+1] = c x[n] over n = 1 .. N-2 needs only the frame's
    `energy` (its sum of squares) and its lag-1 and lag-2 products (edge terms taken off); the
    curvature test runs only on the few frames that pass the first."""
    lag1 = np.einsum("ij,ij->i", x[:, :-1], x[:, 1:])
    lag2 = np.einsum("ij,ij->i", x[:, :-2], x[:, 2:])
    first, last = x[:, 0], x[:, -1]
    mid_energy = energy - first**2 - last**2 + 1e-9
    cross = 2 * lag1 - x[:, -2] * last - first * x[:, 1]
    total = 2 * energy - x[:, -2] ** 2 - last**2 - first**2 - x[:, 1] ** 2 + 2 * lag2 + 1e-9
    unexplained = total - cross * cross / mid_energy
    freq = np.zeros(x.shape[0])
    pure = np.flatnonzero(unexplained <= PURE_RESIDUAL * total)
    if pure.size == 0:
        return freq
    y = x[pure]
    mid, outer = y[:, 1:-1], y[:, :-2] + y[:, 2:]
    second = outer - 2 * mid  # the second difference: low-pass speech has little of it
    curvature = np.einsum("ij,ij->i", second, second) + 1e-9
    pure = pure[unexplained[pure] <= CURVATURE_RESIDUAL * curvature]
    cos_w = np.clip(cross[pure] / (2 * mid_energy[pure]), -1.0, 1.0)
    freq[pure] = np.arccos(cos_w) * (NARROW_RATE / (2 * np.pi))
    return freq

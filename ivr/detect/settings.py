"""Every detector threshold in one typed settings object, with units, defaults and ranges.

Names are dotted for overrides (`vad.aggressiveness`, `noise.window_ms`, `low_volume_dbfs`), as
used by config files and tuning grids. A bad value raises `ValueError` naming the parameter and
its allowed range.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class VadSettings:
    """Voice activity: webrtcvad plus onset and hangover smoothing."""

    aggressiveness: int = 2
    """webrtcvad mode, 0 (keeps the most speech) to 3 (rejects the most non-speech). Mode 3
    misses quiet callees (speech at -45 dBFS), hence the default 2."""
    onset_ms: int = 100
    """Voiced audio (ms) needed before speech counts as started: a word needs about 100 ms, a
    shorter blip is not speech. Voiced frames add up while no gap of onset_ms or longer breaks
    them. Rounded up to whole 20 ms frames."""
    hangover_ms: int = 300
    """Unvoiced audio (ms) that ends a speech segment; shorter pauses stay inside it."""
    edge_margin_db: float = 6.0
    """At a segment's edges, frames less than this above the noise floor (dB) are not speech.
    webrtcvad keeps saying "voiced" for 60-100 ms after speech stops (its own overhang) and
    notices a soft onset late, so segment ends are trimmed back, and starts extended back, by
    level, by at most 160 ms. 0 turns the refinement off."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "aggressiveness": (0, 3),
        "onset_ms": (20, 1000),
        "hangover_ms": (20, 5000),
        "edge_margin_db": (0.0, 40.0),
    }


@dataclass(frozen=True)
class NoiseSettings:
    """Noise floor: a low percentile of frame levels over a sliding window.

    The quietest frames of the last few seconds are the line's own noise: speech pauses set it on
    a clean line, and noise that the VAD mistakes for speech still raises it.
    """

    window_ms: int = 3000
    """Length of the window the floor is estimated over (ms)."""
    percentile: float = 10.0
    """Percentile of frame levels taken as the floor (%)."""
    hop_ms: int = 100
    """How often the floor is re-estimated (ms)."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "window_ms": (200, 60_000),
        "percentile": (0.0, 50.0),
        "hop_ms": (20, 5000),
    }


@dataclass(frozen=True)
class DetectorSettings:
    """All detector settings; defaults in one place."""

    vad: VadSettings = field(default_factory=VadSettings)
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    low_volume_dbfs: float = -40.0
    """Speech whose active level is below this (dBFS) is `low_volume`: heard, but too quiet."""
    min_snr_db: float = 10.0
    """Speech needs at least this signal-to-noise ratio (dB) to be understood; below it the
    segment is noise."""
    noisy_floor_dbfs: float = -50.0
    """A noise floor at or above this (dBFS) makes a noisy line. The standard's criterion is
    听不清 (cannot be understood), so a noisy line with speech clear of the noise
    (noisy_min_snr_db) is speech; only one without is `noise`."""
    noisy_min_snr_db: float = 18.0
    """On a noisy line (floor at or above noisy_floor_dbfs) the loudest 500 ms of speech must
    stand at least this far (dB) above the segment's mean floor to be understood: a talker
    16 dB or more above office babble reaches 21 dB and more there, the babble itself at most
    14 dB in a minute of it."""
    echo_margin_db: float = 10.0
    """Barge-in: while we speak, the microphone hears our own prompt. Speech starting then
    counts only if it is this much louder (dB) than the level heard during the prompt so far."""
    choppy_gap_ms: int = 100
    """Inside speech, an unvoiced stretch at least this long (ms) is a dropout: webrtcvad's own
    overhang bridges most pauses between words, so natural speech has few."""
    choppy_min_gaps: int = 3
    """An utterance with at least this many dropouts (counting the gaps between its pieces) ...
    Over a line with no noise at all (a codec's digital silence) webrtcvad bridges nothing, and
    a short answer with a comma pause or two ("是的,我是") shows two."""
    choppy_min_rate_hz: float = 0.4
    """... and at least this many per second of speech (1/s) is speech cutting in and out."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "low_volume_dbfs": (-90.0, 0.0),
        "min_snr_db": (-10.0, 60.0),
        "noisy_floor_dbfs": (-90.0, 0.0),
        "noisy_min_snr_db": (-10.0, 60.0),
        "echo_margin_db": (0.0, 60.0),
        "choppy_gap_ms": (20, 2000),
        "choppy_min_gaps": (1, 100),
        "choppy_min_rate_hz": (0.0, 50.0),
    }

    def __post_init__(self) -> None:
        for obj, prefix in ((self.vad, "vad."), (self.noise, "noise."), (self, "")):
            _check_ranges(obj, prefix)

    @classmethod
    def names(cls) -> list[str]:
        """Every settable name, dotted (e.g. `vad.aggressiveness`)."""
        return sorted(_flatten(cls()).keys())

    def as_dict(self) -> dict[str, Any]:
        """Flat dict of dotted names to values."""
        return _flatten(self)

    def with_overrides(self, overrides: Mapping[str, Any]) -> DetectorSettings:
        """A copy with dotted names replaced, e.g. {"vad.aggressiveness": 3}."""
        vad = dict(dataclasses.asdict(self.vad))
        noise = dict(dataclasses.asdict(self.noise))
        top = {k: getattr(self, k) for k in TOP_LEVEL}
        for name, value in overrides.items():
            group, _, key = name.rpartition(".")
            target = {"vad": vad, "noise": noise, "": top}.get(group)
            if target is None or key not in target:
                raise ValueError(
                    f"unknown detector setting {name!r}; valid: {', '.join(self.names())}"
                )
            target[key] = _coerce(name, value, target[key])
        return DetectorSettings(VadSettings(**vad), NoiseSettings(**noise), **top)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DetectorSettings:
        """Settings from a config mapping, nested ({"vad": {...}}) or dotted keys."""
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, Mapping):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        return cls().with_overrides(flat)


TOP_LEVEL = (
    "low_volume_dbfs",
    "min_snr_db",
    "noisy_floor_dbfs",
    "noisy_min_snr_db",
    "echo_margin_db",
    "choppy_gap_ms",
    "choppy_min_gaps",
    "choppy_min_rate_hz",
)
"""Settings of DetectorSettings itself (not of a group)."""


def _flatten(settings: DetectorSettings) -> dict[str, Any]:
    out = {f"vad.{k}": v for k, v in dataclasses.asdict(settings.vad).items()}
    out.update({f"noise.{k}": v for k, v in dataclasses.asdict(settings.noise).items()})
    for key in TOP_LEVEL:
        out[key] = getattr(settings, key)
    return out


def _coerce(name: str, value: Any, current: Any) -> Any:
    kind = type(current)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if kind is int:
        if number != int(number):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


def _check_ranges(obj: Any, prefix: str) -> None:
    for key, (low, high) in obj._ranges.items():
        value = getattr(obj, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{prefix}{key} must be a number in {low}..{high}, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{prefix}{key} must be in {low}..{high}, got {value!r}")

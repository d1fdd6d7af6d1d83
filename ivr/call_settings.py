"""Every call setting in typed objects by audience, with units, defaults and ranges.

Three parts, each read by one component: `FrontEndSettings` (the detectors: what they output
depends on these alone, so they key the tuning cache), `ClassifySettings` (the engine's
thresholds on those outputs: quiet, noisy, choppy) and `EchoSettings` (barge-in against our
own echo). `CallSettings` holds the three and reads them from config files, `--set` options
and tuning grids by their dotted names (`vad.aggressiveness`, `noise.window_ms`,
`low_volume_dbfs`). A bad value raises `ValueError` naming the parameter and its allowed range.

Plain dataclasses over the standard library alone, below every layer that reads them: the
detectors (ivr.detect), the engine (ivr.engine), the script's `amd:` check (ivr.script) and the
call layers all import them from here.
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
class AmdSettings:
    """Answering-machine detection (ivr.detect.amd): Asterisk AMD's parameters, with the
    defaults of Asterisk's app_amd.c (dfltInitialSilence ... dfltMaximumWordLength), in ms."""

    initial_silence_ms: int = 2500
    """Silence before the first word that makes a machine (ms)."""
    greeting_ms: int = 1500
    """Voice in the greeting that makes a machine (ms): a human's "喂?" is shorter."""
    after_greeting_silence_ms: int = 800
    """Silence after the greeting began that makes a human (ms): a human waits for us."""
    total_analysis_time_ms: int = 5000
    """Longest analysis (ms); without a verdict by then, not sure."""
    min_word_length_ms: int = 100
    """Consecutive voice that makes a word (ms)."""
    between_words_silence_ms: int = 50
    """Silence that ends a word (ms); rounded up to whole 20 ms frames (60 ms)."""
    maximum_number_of_words: int = 2
    """More words than this in the greeting make a machine."""
    maximum_word_length_ms: int = 5000
    """A single word this long makes a machine (ms)."""
    silence_threshold_dbfs: float = -50.0
    """Frames below this level (dBFS) are silence; above it, a frame is voice when webrtcvad
    calls it voiced and it is no telephone tone. Asterisk's silenceThreshold 256 (mean
    absolute amplitude of 32767) is about -41 dBFS; the default is lower so that a quiet callee
    (speech at -45 dBFS, which the script asks to speak up) is heard as a human, not as the
    initial silence of a machine; webrtcvad keeps line noise out."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "initial_silence_ms": (20, 60_000),
        "greeting_ms": (20, 60_000),
        "after_greeting_silence_ms": (20, 60_000),
        "total_analysis_time_ms": (20, 60_000),
        "min_word_length_ms": (20, 10_000),
        "between_words_silence_ms": (20, 10_000),
        "maximum_number_of_words": (1, 100),
        "maximum_word_length_ms": (20, 60_000),
        "silence_threshold_dbfs": (-90.0, 0.0),
    }


@dataclass(frozen=True)
class LearnedSettings:
    """The learned speech stage (ivr.detect.learned): Silero VAD confirms each onset that
    webrtcvad's rules decide before it becomes speech."""

    enabled: int = 1
    """1: onsets are confirmed by the learned stage; 0: webrtcvad and its rules alone (the
    behaviour before the stage, to compare the two)."""
    threshold: float = 0.5
    """Silero's speech probability (0-1) at or above which a 32 ms window is speech: its own
    default. Measured: chimes, ring tones, static bursts and filtered clicks stay under 0.1,
    talkers reach 1.0."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "enabled": (0, 1),
        "threshold": (0.05, 0.95),
    }


@dataclass(frozen=True)
class FrontEndSettings:
    """What the detectors (ivr.detect.frontend.Detectors) are set up with: their outputs, the
    speech events and the noise floor of every frame, depend on the audio and these alone."""

    vad: VadSettings = field(default_factory=VadSettings)
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    amd: AmdSettings = field(default_factory=AmdSettings)
    learned: LearnedSettings = field(default_factory=LearnedSettings)
    choppy_gap_ms: int = 60
    """Shortest dropout counted (ms): inside speech, an abrupt loss of the line to the floor or
    to digital silence, back within 300 ms (ivr.detect.dropouts). A single lost 20 ms packet is
    concealed by the network and is no dropout; a talker's pauses never are."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {"choppy_gap_ms": (20, 300)}

    def __post_init__(self) -> None:
        for name, group in _groups(self):
            _check_ranges(group, f"{name}.")
        _check_ranges(self, "")

    @classmethod
    def names(cls) -> list[str]:
        """Every dotted name of a front-end setting (`vad.*`, `noise.*`, `amd.*`,
        `learned.*`, `choppy_gap_ms`): a group's name is its field's."""
        return sorted(_flatten(cls()))

    def as_dict(self) -> dict[str, Any]:
        """Flat dict of dotted names to values."""
        return _flatten(self)


@dataclass(frozen=True)
class ClassifySettings:
    """The thresholds the engine judges detector outputs by (ivr.detect.classify,
    ivr.engine.utterance): speech, too quiet, too noisy, cutting in and out."""

    low_volume_dbfs: float = -40.0
    """Speech whose active level is below this (dBFS) is `low_volume`: heard, but too quiet."""
    min_snr_db: float = 10.0
    """Speech needs at least this signal-to-noise ratio (dB) to be understood; below it the
    segment is noise."""
    noisy_floor_dbfs: float = -55.0
    """A noise floor at or above this (dBFS, in the speech band) makes a noisy line: four
    distant talkers at -45 dBFS (babble in the callee's room) hold the band's floor at -54
    dBFS and above, a quiet line stays under -65. The standard's criterion is 听不清 (cannot be
    understood), so a noisy line with speech clear of the noise (noisy_min_snr_db) is speech;
    only one without is `noise`. Sounds the learned stage rejects (chimes, ring tones, static)
    come and go, and leave the floor where the line's own noise is."""
    noisy_min_snr_db: float = 18.0
    """On a noisy line (floor at or above noisy_floor_dbfs) the loudest 500 ms of speech must
    stand at least this far (dB) above the segment's mean floor to be understood: a talker
    16 dB or more above office babble reaches 21 dB and more there, the babble itself at most
    14 dB in a minute of it."""
    choppy_min_gaps: int = 3
    """An utterance with at least this many dropouts of the line (ivr.detect.dropouts: abrupt
    losses inside its segments; the pauses between its pieces are the talker's own) ..."""
    choppy_min_rate_hz: float = 0.4
    """... and at least this many per second of speech (1/s) is speech cutting in and out."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "low_volume_dbfs": (-90.0, 0.0),
        "min_snr_db": (-10.0, 60.0),
        "noisy_floor_dbfs": (-90.0, 0.0),
        "noisy_min_snr_db": (-10.0, 60.0),
        "choppy_min_gaps": (1, 100),
        "choppy_min_rate_hz": (0.0, 50.0),
    }

    def __post_init__(self) -> None:
        _check_ranges(self, "")


@dataclass(frozen=True)
class EchoSettings:
    """Barge-in against our own echo (ivr.call.echo.EchoGuard)."""

    echo_margin_db: float = 10.0
    """Barge-in: while we speak, the microphone hears our own prompt. Speech starting then
    counts only if it is this much louder (dB) than the level heard during the prompt so far."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {"echo_margin_db": (0.0, 60.0)}

    def __post_init__(self) -> None:
        _check_ranges(self, "")


@dataclass(frozen=True)
class LineSettings:
    """A telephone line's own check of its audio (ivr.transports.sip)."""

    no_rtp_s: float = 5.0
    """An answered SIP call on which not one RTP packet has come this long after the answer (s
    of the call's clock) ends `media_error`: its audio does not reach us (one-way audio: NAT, a
    firewall, a wrong address in the SDP), and the silence filled in for it would pass for a
    silent callee (Asterisk's `rtptimeout` and FreeSWITCH's `media_timeout` end such calls
    too). Phones and gateways send RTP from the answer, comfort noise included, even those that
    stop sending during silence later: only the first packet is waited for, so a pause in the
    stream later in the call is no failure. 0: not checked."""

    _ranges: ClassVar[dict[str, tuple[float, float]]] = {"no_rtp_s": (0.0, 3600.0)}

    def __post_init__(self) -> None:
        _check_ranges(self, "")


@dataclass(frozen=True)
class CallSettings:
    """All the settings of a call, by audience; defaults in one place."""

    front_end: FrontEndSettings = field(default_factory=FrontEndSettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    echo: EchoSettings = field(default_factory=EchoSettings)
    line: LineSettings = field(default_factory=LineSettings)

    @classmethod
    def names(cls) -> list[str]:
        """Every settable name, dotted (e.g. `vad.aggressiveness`)."""
        return sorted(cls().as_dict())

    def as_dict(self) -> dict[str, Any]:
        """Flat dict of dotted names to values."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            out.update(_flatten(getattr(self, f.name)))
        return out

    def with_overrides(self, overrides: Mapping[str, Any]) -> CallSettings:
        """A copy with dotted names replaced, e.g. {"vad.aggressiveness": 3}."""
        values = self.as_dict()
        for name, value in overrides.items():
            if name not in values:
                raise ValueError(
                    f"unknown detector setting {name!r}; valid: {', '.join(sorted(values))}"
                )
            values[name] = _coerce(name, value, values[name])
        return _rebuild(self, values, audience=True)

    def with_script_amd(self, values: Mapping[str, float]) -> CallSettings:
        """A copy with a script's `amd:` values (by name, without `amd.`) where these settings
        still have Asterisk's defaults: a value given by a config file, `--set` or a tuning
        grid wins over the script's."""
        default, current = AmdSettings(), self.front_end.amd
        changes = {
            f"amd.{name}": value
            for name, value in values.items()
            if getattr(current, name) == getattr(default, name)
        }
        return self.with_overrides(changes) if changes else self

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CallSettings:
        """Settings from a config mapping, nested ({"vad": {...}}) or dotted keys."""
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, Mapping):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        return cls().with_overrides(flat)


def _groups(settings: Any) -> list[tuple[str, Any]]:
    """The groups of a settings object: its fields that are settings objects themselves (the
    front end's `vad`, `noise`, `amd`, `learned`, ...), by field name."""
    fields = ((f.name, getattr(settings, f.name)) for f in dataclasses.fields(settings))
    return [(name, value) for name, value in fields if dataclasses.is_dataclass(value)]


def _flatten(settings: Any) -> dict[str, Any]:
    """Dotted name -> value of a settings object: a group's settings under its field's name."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            out.update({f"{f.name}.{k}": v for k, v in _flatten(value).items()})
        else:
            out[f.name] = value
    return out


def _rebuild(settings: Any, values: Mapping[str, Any], audience: bool = False) -> Any:
    """A settings object of the same classes as `settings` with the dotted `values` (as
    `_flatten` names them); an audience's fields (CallSettings') add no prefix."""
    changes = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if audience:
            changes[f.name] = _rebuild(value, values)
        elif dataclasses.is_dataclass(value):
            prefix = f"{f.name}."
            inner = {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}
            changes[f.name] = _rebuild(value, inner)
        else:
            changes[f.name] = values[f.name]
    return type(settings)(**changes)


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
    for key, (low, high) in getattr(obj, "_ranges", {}).items():
        value = getattr(obj, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{prefix}{key} must be a number in {low}..{high}, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{prefix}{key} must be in {low}..{high}, got {value!r}")

"""Rendering the field corpus (ivr.synth.field): a call spec with recorded sounds, rooms, hum,
a causal telephone line, GSM and lost packets, and the corpus writer.

A `FieldCallSpec` is a `CallSpec` (its talker, faint line noise, name and seed render as any
call's, see ivr.synth.calls) plus:

- `layers`: sounds that are not the callee talking to us (`Layer`): chimes and ring tones,
  static bursts, clicks, a TV, babble, hum;
- `room`: the talker's room (RT60 in s, direct-to-reverberant ratio in dB): a speakerphone;
- `erasure`: `bursts` or `isolated` lost packets from the talker's first word on.

The telephone channels (`telephone` mu-law, `telephone_alaw` A-law, `telephone_gsm` GSM 06.10
decoded to 8 kHz PCM) pass the call through ivr.synth.field_audio's causal line filters.
Lost packets are 20 ms frames of the file set to exact zeros (so only on `clean` and mu-law
`telephone`, whose codes hold an exact zero). The manifest entry adds `field:` with the class,
the line, each layer and the erased stretches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from ivr.audio.format import FRAME_S, SAMPLE_RATE
from ivr.corpus.write import manifest_yaml
from ivr.synth import field_audio as fa
from ivr.synth.calls import CallSpec, render_call
from ivr.synth.channel import CODINGS
from ivr.synth.corpus import MANIFEST_NAME
from ivr.synth.levels import active_level_dbfs, to_int16
from ivr.synth.speech import load_phrase

ERASED_BURST_MS = (100, 300)
"""A burst of lost packets (ms, whole 20 ms frames)."""

ERASED_KEPT_MS = (200, 600)
"""Received stretch between two bursts (ms, whole frames): a third of the frames lost."""

LOST_FRAME_RATE = 0.05
"""Share of single 20 ms frames lost at random (`isolated`)."""

BABBLE_LEVEL_SPREAD_DB = 3.0
"""Each babble talker's level is within this of the others' (dB, uniform)."""

BABBLE_PAUSE_MS = (50, 400)
"""Pause between a babble talker's phrases (ms)."""

LAYER_KINDS = ("chime", "ring", "static", "click", "tv", "babble", "hum")


@dataclass(frozen=True)
class Layer:
    """A sound on the line that is not the callee talking to us."""

    kind: str
    """chime | ring (a recorded sound) | static | click | tv | babble | hum (the whole call)."""
    start_s: float
    """When it starts (s); 0 for tv, babble and hum."""
    level_dbfs: float
    """Peak of a click; RMS of a static burst; RMS over the active part of a chime or ring;
    RMS over the whole call of a tv, babble or hum (dBFS)."""
    source: str = ""
    """The recorded sound (chime, ring: a freedesktop file; tv: a music-on-hold file)."""
    duration_ms: float = 0.0
    """Length of a static burst (ms)."""
    voices: tuple[tuple[str, ...], ...] = ()
    """tv, babble: one pool of phrases per talker."""
    rt60_s: float = 0.0
    """tv, babble: reverberation time of the room (s)."""
    drr_db: float = 0.0
    """tv, babble: direct-to-reverberant ratio (dB)."""
    ratio_db: float = 0.0
    """tv: the dialogue's active level above the music's RMS (dB)."""

    def label(self, duration_s: float) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "start_s": self.start_s}
        if self.kind == "static":
            out["end_s"] = round(self.start_s + self.duration_ms / 1000, 4)
        elif self.kind == "click":
            out["end_s"] = round(self.start_s + fa.CLICK_MS / 1000, 4)
        elif self.kind in ("chime", "ring"):
            length = len(fa.load_sound("freedesktop", self.source)) / SAMPLE_RATE
            out["end_s"] = round(min(duration_s, self.start_s + length), 4)
        else:
            out["end_s"] = duration_s
        out["level_dbfs"] = self.level_dbfs
        if self.source:
            out["source"] = self.source
        if self.voices:
            out["talkers"] = len(self.voices)
        if self.kind in ("tv", "babble"):
            out.update(rt60_s=self.rt60_s, drr_db=self.drr_db)
        if self.kind == "tv":
            out["speech_to_music_db"] = self.ratio_db
        return out


@dataclass(frozen=True)
class FieldCallSpec(CallSpec):
    """A call of the field corpus (see the module docstring)."""

    group: str = ""
    """The field class: a-f (ivr.synth.field)."""
    layers: tuple[Layer, ...] = ()
    room: tuple[float, float] | None = None
    """The talker's room: (RT60 in s, direct-to-reverberant ratio in dB); None: dry."""
    erasure: str | None = None
    """bursts | isolated | None."""


@dataclass(frozen=True)
class FieldRendering:
    spec: FieldCallSpec
    line_in: np.ndarray
    """The call at 16 kHz (int16) before the line."""
    samples: np.ndarray
    """What the file holds (int16 at the channel's rate)."""
    erased: np.ndarray | None
    """Per file frame: lost (True); None without erasure."""
    entry: dict[str, Any]


def render_field(spec: FieldCallSpec) -> FieldRendering:
    """Render `spec`; ValueError naming the call on a bad spec."""
    if spec.erasure not in (None, "bursts", "isolated"):
        raise ValueError(f"call {spec.name!r}: erasure must be bursts, isolated or None")
    if spec.erasure and spec.channel not in ("clean", "telephone"):
        raise ValueError(f"call {spec.name!r}: lost frames need a clean or mu-law channel")
    base = render_call(spec)
    n = len(base.audio)
    seeds = np.random.SeedSequence([spec.seed, 0xF1E1D]).spawn(len(spec.layers) + 2)
    speech = base.speech.astype(np.float64)
    if spec.room is not None and speech.any():
        rt60, drr = spec.room
        wet = fa.reverberate(speech, fa.room_response(rt60, drr, np.random.default_rng(seeds[0])))
        speech = wet * 10 ** ((active_level_dbfs(speech) - active_level_dbfs(wet)) / 20)
    mix = speech + base.noise
    for layer, seed in zip(spec.layers, seeds[2:], strict=True):
        if layer.kind not in LAYER_KINDS:
            raise ValueError(f"call {spec.name!r}: layer kind must be one of {LAYER_KINDS}")
        mix += _layer(layer, n, np.random.default_rng(seed))
    line_in = to_int16(mix)
    if spec.channel == "clean":
        samples = line_in
    else:
        samples = to_int16(fa.telephone_line(line_in))
        if spec.channel == "telephone_gsm":
            samples = fa.gsm_round_trip(samples)
    rate = CODINGS[spec.channel].sample_rate
    erased = None
    if spec.erasure:
        per_frame = round(rate * FRAME_S)
        frames = len(samples) // per_frame
        origin = min(round(u.start_s / FRAME_S) for u in spec.utterances)
        rng = np.random.default_rng(seeds[1])
        erased = np.zeros(frames, dtype=bool)
        if spec.erasure == "bursts":
            erased[origin:] = fa.burst_erasures(
                frames - origin, rng, ERASED_BURST_MS, ERASED_KEPT_MS
            )
        else:
            erased[origin:] = fa.isolated_erasures(frames - origin, rng, LOST_FRAME_RATE)
        samples = samples.copy()
        samples[: frames * per_frame].reshape(frames, per_frame)[erased] = 0
    entry = dict(base.entry)
    expect = entry.pop("expect")
    entry["field"] = _field_label(spec, erased)
    entry["expect"] = expect
    return FieldRendering(spec, line_in, samples, erased, entry)


def _field_label(spec: FieldCallSpec, erased: np.ndarray | None) -> dict[str, Any]:
    line = "none" if spec.channel == "clean" else "butterworth_300_3400_causal"
    out: dict[str, Any] = {"class": spec.group, "line": line}
    if spec.channel == "telephone_gsm":
        out["codec"] = "gsm_06_10"
    if spec.room is not None:
        out["room"] = {"rt60_s": spec.room[0], "drr_db": spec.room[1]}
    if spec.layers:
        out["layers"] = [layer.label(spec.duration_s) for layer in spec.layers]
    if erased is not None:
        edges = np.diff(np.concatenate([[0], erased.astype(np.int8), [0]]))
        runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
        out["erasure"] = spec.erasure
        out["erased_s"] = [
            [round(int(a) * FRAME_S, 2), round(int(b) * FRAME_S, 2)] for a, b in runs
        ]
    return out


def _s(frame) -> float:
    return round(int(frame) * FRAME_S, 2)


def _layer(layer: Layer, n: int, rng: np.random.Generator) -> np.ndarray:
    """The layer's samples over the call (float64, int16 units)."""
    out = np.zeros(n)
    if layer.kind in ("tv", "babble", "hum"):
        if layer.kind == "hum":
            track = fa.mains_hum(n, rng)
        elif layer.kind == "babble":
            track = sum(_room(_voice_track(pool, n, rng), layer, rng) for pool in layer.voices)
        else:
            speech = _voice_track(layer.voices[0], n, rng)
            clip = fa.load_sound("moh", layer.source)
            music = np.resize(np.roll(clip, -int(rng.integers(0, len(clip)))), n)
            gain = 10 ** ((active_level_dbfs(speech) - layer.ratio_db) / 20) * 32768
            music = music / np.sqrt(np.mean(music**2)) * gain
            track = _room(speech + music, layer, rng)
        return track * (32768 * 10 ** (layer.level_dbfs / 20) / np.sqrt(np.mean(track**2)))
    first = round(layer.start_s * SAMPLE_RATE)
    if layer.kind in ("chime", "ring"):
        sound = fa.to_level(
            np.asarray(fa.load_sound("freedesktop", layer.source)), layer.level_dbfs
        )
    elif layer.kind == "static":
        burst = fa.static_burst(round(layer.duration_ms * SAMPLE_RATE / 1000), rng)
        sound = burst * 32768 * 10 ** (layer.level_dbfs / 20) / np.sqrt(np.mean(burst**2))
    else:
        sound = fa.click(rng) * 32768 * 10 ** (layer.level_dbfs / 20)
    sound = sound[: max(0, n - first)]
    out[first : first + len(sound)] += sound
    return out


def _room(x: np.ndarray, layer: Layer, rng: np.random.Generator) -> np.ndarray:
    return fa.reverberate(x, fa.room_response(layer.rt60_s, layer.drr_db, rng))


def _voice_track(pool: tuple[str, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """One distant talker: `pool` in a seeded order, BABBLE_PAUSE_MS apart, looped from a seeded
    offset, at a level within BABBLE_LEVEL_SPREAD_DB (float64, int16 units, before scaling)."""
    gain = 10 ** (rng.uniform(-BABBLE_LEVEL_SPREAD_DB, BABBLE_LEVEL_SPREAD_DB) / 20)
    pieces = []
    for k in rng.permutation(len(pool)):
        samples = load_phrase(pool[int(k)]).samples
        level = active_level_dbfs(samples)
        pieces.append(samples * 10 ** ((-20.0 - level) / 20) * gain)
        pieces.append(np.zeros(int(rng.integers(*BABBLE_PAUSE_MS)) * SAMPLE_RATE // 1000))
    cycle = np.concatenate(pieces)
    offset = int(rng.integers(0, len(cycle)))
    return np.tile(cycle, (offset + n) // len(cycle) + 1)[offset : offset + n]


OnWritten = Callable[[Path, dict[str, Any]], None]


def write_field_corpus(
    pairs: Iterable[tuple[FieldCallSpec, dict[str, Any]]],
    out_dir: str | Path,
    seed: int | None,
    on_written: OnWritten | None = None,
) -> Path:
    """Render the field calls into `out_dir` (`<name>.wav` each, then `manifest.yaml`, with
    each call's `expect:` additions); returns the manifest path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    names: set[str] = set()
    for spec, extra in pairs:
        if spec.name in names:
            raise ValueError(f"call name {spec.name!r} used more than once")
        names.add(spec.name)
        rendered = render_field(spec)
        rendered.entry["expect"].update(extra)
        coding = CODINGS[spec.channel]
        path = out / spec.file
        sf.write(path, rendered.samples, coding.sample_rate, subtype=coding.subtype, format="WAV")
        entries.append(rendered.entry)
        if on_written is not None:
            on_written(path, rendered.entry)
    manifest = out / MANIFEST_NAME
    manifest.write_text(manifest_yaml(seed, entries), encoding="utf-8")
    return manifest

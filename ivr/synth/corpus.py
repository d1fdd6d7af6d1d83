"""Corpora of labelled calls: the fixed sample corpus, seeded random corpora, and writing them.

`write_corpus` renders each `CallSpec`, writes `<name>.wav` coded for its channel and then
`manifest.yaml` (see ivr.corpus.manifest), every file atomically.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ivr.atomic import atomic_path, write_text_atomic
from ivr.audio.format import FRAME_S
from ivr.corpus.manifest import BASIC_SITUATIONS
from ivr.corpus.write import manifest_yaml
from ivr.synth.calls import CallSpec, RenderedCall, Utterance, render_call
from ivr.synth.channel import CHANNELS, write_wav
from ivr.synth.speech import CALLEE_PHRASES, HUMAN_PHRASES, load_phrase

__all__ = [
    "CallSpec",
    "RenderedCall",
    "Utterance",
    "generate",
    "random_specs",
    "render_call",
    "sample_specs",
    "write_corpus",
]

MANIFEST_NAME = "manifest.yaml"

NORMAL_LEVEL_DBFS = -20.0
"""Active speech level of a normal callee (dBFS), jittered by up to LEVEL_JITTER_DB."""

LEVEL_JITTER_DB = 3.0
"""Largest deviation from the normal level (dB)."""

QUIET_LEVEL_DBFS = (-47.0, -44.0)
"""Active speech level range of a too-quiet callee (dBFS)."""

NOISY_LEVEL_DBFS = (-25.0, -18.0)
"""Noise level range of a noisy line (dBFS)."""

OnWritten = Callable[[Path, dict[str, Any]], None]

SpecRow = tuple[str, str, float, tuple[Utterance, ...], str, float | None, bool]
"""One call of a corpus: (situation, channel, duration_s, utterances, noise, noise_dbfs,
dropouts), as in CallSpec."""


def sample_specs(seed: int = 7) -> list[CallSpec]:
    """The small fixed sample corpus: 8 calls of 6-10 s covering every situation and channel.

    Phrases, times and levels are fixed; `seed` only derives each call's seed (noise, babble
    talkers, dropouts).
    """
    U = Utterance
    rows: list[SpecRow] = [
        ("answers_at_once", "clean", 8.0,
         (U(0.3, "喂?", -20.0), U(1.4, "是的,我是", -21.0), U(3.6, "human:cards/002.wav", -19.5)),
         "pink", -65.0, False),
        ("answers_late", "telephone", 9.0,
         (U(4.0, "喂,你好", -19.0), U(5.6, "你说什么", -21.5)),
         "white", -62.0, False),
        ("never_answers", "clean", 6.0, (), "white", -68.0, False),
        ("too_quiet", "clean", 8.0,
         (U(0.4, "喂?", -46.0), U(1.6, "听不清", -45.0), U(3.6, "human:cards/003.wav", -47.0)),
         "pink", -78.0, False),
        ("noisy_line", "telephone", 8.0, (), "babble", -20.0, False),
        ("noisy_line", "clean", 8.0,
         (U(0.5, "喂?", -24.0), U(1.8, "你说什么", -23.0)),
         "pink", -22.0, False),
        ("cut_in_out", "telephone", 10.0,
         (U(0.3, "human:librivox/sense_and_sensibility_01_austen_64kb-0920.wav", -20.0),
          U(6.4, "听不清", -19.0), U(8.0, "你说什么", -20.5)),
         "pink", -56.0, True),
        ("answers_at_once", "clean", 7.0,
         (U(0.2, "human:cards/005.wav", -21.0), U(4.0, "好的", -19.0)),
         "hum", -55.0, False),
    ]  # fmt: skip
    return _specs(rows, "sample_{:02d}_{}", seed)


def random_specs(count: int, seed: int) -> list[CallSpec]:
    """`count` varied calls of 6-12 s, cycling through situations and channels.

    Noise types, levels, phrases (synthesized and human, about one in three human) and timings
    are drawn from `numpy.random.default_rng(seed)` within each situation's rules.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = np.random.default_rng(seed)
    rows: list[SpecRow] = []
    for i in range(count):
        situation = BASIC_SITUATIONS[i % len(BASIC_SITUATIONS)]
        channel = CHANNELS[(i + i // len(BASIC_SITUATIONS)) % len(CHANNELS)]
        duration = round(float(rng.uniform(6.0, 12.0)), 1)
        noise, noise_dbfs, utterances, dropouts = _draw_situation(situation, channel, duration, rng)
        rows.append((situation, channel, duration, utterances, noise, noise_dbfs, dropouts))
    return _specs(rows, "call_{:04d}_{}", seed)


def _specs(rows: list[SpecRow], name: str, seed: int) -> list[CallSpec]:
    """A CallSpec per row, named `name.format(number, situation)` (numbers from 1), each
    rendering from its own seed derived from the corpus `seed`."""
    seeds = _call_seeds(seed, len(rows))
    specs = []
    for i, row in enumerate(rows):
        situation, channel, duration, utterances, noise, noise_dbfs, dropouts = row
        specs.append(
            CallSpec(
                name=name.format(i + 1, situation),
                situation=situation,
                duration_s=duration,
                utterances=utterances,
                channel=channel,
                noise=noise,
                noise_dbfs=noise_dbfs,
                dropouts=dropouts,
                seed=seeds[i],
            )
        )
    return specs


def _draw_situation(
    situation: str, channel: str, duration: float, rng: np.random.Generator
) -> tuple[str, float | None, tuple[Utterance, ...], bool]:
    """(noise type, noise level in dBFS, utterances, dropouts) for one random call.

    A noisy telephone line never gets hum: the 300-3400 Hz band keeps only its 350 Hz
    harmonic, so the line would come out quiet.
    """

    def normal() -> float:
        return NORMAL_LEVEL_DBFS + float(rng.uniform(-LEVEL_JITTER_DB, LEVEL_JITTER_DB))

    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    if situation == "never_answers":
        noise = pick(("none", "white", "pink"))
        return noise, _noise_level(noise, (-80.0, -60.0), rng), (), False
    if situation == "too_quiet":
        noise = pick(("none", "white", "pink"))
        level = _noise_level(noise, (-85.0, -72.0), rng)
        quiet = _place(rng, duration, (0.2, 2.0), lambda: float(rng.uniform(*QUIET_LEVEL_DBFS)), 3)
        return noise, level, quiet, False
    if situation == "noisy_line":
        noise = pick(("white", "pink", "babble") + (("hum",) if channel == "clean" else ()))
        level = round(float(rng.uniform(*NOISY_LEVEL_DBFS)), 1)
        if rng.random() < 0.5:
            return noise, level, (), False
        under = _place(rng, duration, (0.2, 3.0), lambda: level - float(rng.uniform(0.0, 6.0)), 3)
        return noise, level, under, False
    if situation == "cut_in_out":
        noise = pick(("white", "pink", "hum", "babble"))
        level = _noise_level(noise, (-62.0, -52.0), rng)
        return noise, level, _place(rng, duration, (0.2, 1.0), normal, 3), True
    noise = pick(("none", "white", "pink", "hum", "babble"))
    level = _noise_level(noise, (-75.0, -58.0), rng)
    first = (0.1, 0.5) if situation == "answers_at_once" else (1.5, min(5.0, duration - 2.0))
    return noise, level, _place(rng, duration, first, normal, 3), False


def _noise_level(noise: str, span: tuple[float, float], rng: np.random.Generator) -> float | None:
    return None if noise == "none" else round(float(rng.uniform(*span)), 1)


def _place(
    rng: np.random.Generator,
    duration: float,
    first_start: tuple[float, float],
    level: Callable[[], float],
    most: int,
) -> tuple[Utterance, ...]:
    """Up to `most` utterances one after another, the first starting within `first_start` (s),
    then 0.3-1.5 s after the previous one's audio ends, all inside the call.

    Levels are capped (rounding down to 0.1 dB) so that no phrase clips.
    """
    frames = round(duration / FRAME_S)
    start = _to_frame(float(rng.uniform(*first_start)))
    out: list[Utterance] = []
    for _ in range(int(rng.integers(1, most + 1))):
        pool = HUMAN_PHRASES if rng.random() < 1 / 3 else CALLEE_PHRASES
        fitting = [p for p in pool if start + _frames_of(p) <= frames]
        if not fitting:
            fitting = [p for p in CALLEE_PHRASES if start + _frames_of(p) <= frames]
        if not fitting:
            break
        phrase = fitting[int(rng.integers(len(fitting)))]
        cap = math.floor((load_phrase(phrase).max_level_dbfs - 0.2) * 10.0) / 10.0
        out.append(Utterance(round(start * FRAME_S, 2), phrase, min(round(level(), 1), cap)))
        start += _frames_of(phrase) + _to_frame(float(rng.uniform(0.3, 1.5)))
    return tuple(out)


def _frames_of(phrase: str) -> int:
    return round(load_phrase(phrase).duration_s / FRAME_S)


def _to_frame(seconds: float) -> int:
    return round(seconds / FRAME_S)


def _call_seeds(seed: int, count: int) -> list[int]:
    """Per-call seeds derived from a corpus seed (independent of the corpus's other draws)."""
    state = np.random.SeedSequence([seed, 0x5EED]).generate_state(count, dtype=np.uint32)
    return [int(s) for s in state]


def write_corpus(
    specs: Iterable[CallSpec],
    out_dir: str | Path,
    seed: int | None,
    on_written: OnWritten | None = None,
    expect_extra: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Render `specs` into `out_dir`: `<name>.wav` per call, then `manifest.yaml`.

    `seed` is the corpus seed recorded in the manifest (each call renders from its own
    `CallSpec.seed`). `on_written(path, entry)` is called after each WAV file is written.
    `expect_extra` adds fields to a call's `expect:` (by call name), e.g. the outcome and
    event times a replay must reach. Returns the manifest path. Raises `ValueError` on
    duplicate call names or a bad spec.
    """
    specs = list(specs)
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"call name {duplicates[0]!r} used more than once")
    out = Path(out_dir)
    entries = []
    for spec in specs:
        rendered = render_call(spec)
        if expect_extra and spec.name in expect_extra:
            rendered.entry["expect"].update(expect_extra[spec.name])
        path = out / spec.file
        with atomic_path(path) as tmp:
            write_wav(tmp, rendered.file_audio, spec.channel, spec.dc_offset)
        entries.append(rendered.entry)
        if on_written is not None:
            on_written(path, rendered.entry)
    manifest = out / MANIFEST_NAME
    write_text_atomic(manifest, manifest_yaml(seed, entries))
    return manifest


def generate(
    out_dir: str | Path,
    count: int | None = None,
    seed: int = 7,
    on_written: OnWritten | None = None,
) -> Path:
    """Write the sample corpus (`count` None) or `count` random calls; returns the manifest.

    This is what `ivr synth` and tools/make_test_calls.py run.
    """
    specs = sample_specs(seed) if count is None else random_specs(count, seed)
    return write_corpus(specs, out_dir, seed, on_written)

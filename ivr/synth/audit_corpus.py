"""Writing the `ivr synth --audit` corpus: stereo calls as call recorders store them, and
their labels.

Call i (from 0) is of kind `KINDS[i % len(KINDS)]` (ivr.synth.audit_calls), drawn with a
generator seeded by the corpus seed and i, and written as `audit_<i+1:03>_<kind>.wav`: stereo,
the agent on the left and the customer on the right, each side over its own faint noise floor
(-72..-62 dBFS), through the telephone band (300-3400 Hz) and stored as 8 kHz G.711 mu-law
(ivr.synth.channel `telephone`). The labels go beside them in `audit_labels.yaml`
(ivr.corpus.audit_labels: per call, each item's expected verdict and failing moments, s, with
its `part`): a third of each kind's calls (rounded) is held out (`held_out`), the rest is for
tuning (`tuning`), chosen by the seed alone. The same seed and count write byte-identical
files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.audio.format import FULL_SCALE, SAMPLE_RATE
from ivr.corpus.audit_labels import (
    AUDIT_LABELS_NAME,
    AuditCallLabels,
    AuditLabels,
    ItemLabel,
    Utterance,
    write_audit_labels,
)
from ivr.synth.audit_calls import KINDS, build_scene
from ivr.synth.audit_scene import Scene
from ivr.synth.audit_voices import at_level
from ivr.synth.channel import write_wav
from ivr.synth.field_audio import load_sound
from ivr.synth.levels import to_int16

GENERATOR = "ivr synth --audit"
HELD_OUT_SHARE = 1 / 3
"""Share of each kind's calls held out of tuning."""
FLOOR_DBFS = (-72.0, -62.0)
"""Each side's noise floor (dBFS, white, before the telephone band)."""
TOLERANCE_S = 0.1
"""How far (s) a found moment may be from its label (within 100 ms)."""
_SALT = 0xA0D17


@dataclass(frozen=True)
class AuditCall:
    """One call of the corpus: its file name, scene, corpus part and noise floors (dBFS,
    agent's and customer's)."""

    file: str
    scene: Scene
    part: str
    floors_dbfs: tuple[float, float]

    @property
    def labels(self) -> AuditCallLabels:
        """Its labels (every item; failing moments for the failed ones)."""
        items = []
        for key, label in self.scene.labels().items():
            moments = tuple(label["moments_s"]) if label["verdict"] == "fail" else None  # type: ignore[arg-type]
            items.append(ItemLabel(key, str(label["verdict"]), moments))
        said = tuple(
            Utterance(t.start_s, round(t.end_s, 3), t.clip.text or "")
            for t in self.scene.agent_turns()
        )
        return AuditCallLabels(self.file, tuple(items), "left", self.part, said or None)


def held_out(count: int, seed: int) -> frozenset[int]:
    """The calls (indices) held out: HELD_OUT_SHARE of each kind's, rounded, by the seed."""
    rng = np.random.default_rng([seed, _SALT, 1 << 16])
    kinds = len(KINDS)
    out: set[int] = set()
    for k in range(kinds):
        rows = list(range(k, count, kinds))
        take = round(len(rows) * HELD_OUT_SHARE)
        out.update(int(i) for i in rng.permutation(rows)[:take])
    return frozenset(out)


def plan_corpus(count: int, seed: int = 7) -> list[AuditCall]:
    """The corpus's `count` calls, drawn (ValueError for a count under 1)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a whole number >= 1, got {count!r}")
    names = list(KINDS)
    held = held_out(count, seed)
    calls = []
    for i in range(count):
        kind = names[i % len(names)]
        rng = np.random.default_rng([seed, _SALT, i])
        scene = build_scene(kind, rng)
        floors = tuple(round(float(rng.uniform(*FLOOR_DBFS)), 1) for _ in range(2))
        part = "held_out" if i in held else "tuning"
        calls.append(AuditCall(f"audit_{i + 1:03d}_{kind}.wav", scene, part, floors))  # type: ignore[arg-type]
    return calls


def render(call: AuditCall, seed: int, index: int) -> np.ndarray:
    """Call `index` of the corpus at 16 kHz as (samples, 2) int16: the agent left, the
    customer right; the floors' noise drawn by the seed and the index."""
    scene = call.scene
    n = round(scene.duration_s * SAMPLE_RATE)
    rng = np.random.default_rng([seed, _SALT, 1 << 17, index])
    audio = np.stack(
        [rng.normal(0.0, 10 ** (floor / 20) * FULL_SCALE, n) for floor in call.floors_dbfs],
        axis=1,
    )
    if scene.customer_noise_dbfs is not None:
        audio[:, 1] += rng.normal(0.0, 10 ** (scene.customer_noise_dbfs / 20) * FULL_SCALE, n)
    for music in scene.music:
        start, stop = round(music.start_s * SAMPLE_RATE), round(music.end_s * SAMPLE_RATE)
        track = load_sound("moh", music.track)
        first = round(music.offset_s * SAMPLE_RATE)
        piece = np.resize(track[first:], max(0, min(stop, n) - start))
        rms = float(np.sqrt(np.mean(piece**2))) if piece.size else 0.0
        if rms > 0:
            audio[start : start + piece.size, 0] += (
                piece / rms * 10 ** (music.level_dbfs / 20) * FULL_SCALE
            )
    for turn in scene.turns:
        start = round(turn.start_s * SAMPLE_RATE)
        piece = at_level(turn.clip, turn.level_dbfs)[: max(0, n - start)]
        audio[start : start + piece.size, 0 if turn.side == "agent" else 1] += piece
    return to_int16(audio)


def write_audit_corpus(
    out: Path,
    count: int | None = None,
    seed: int = 7,
    on_written: Callable[[Path, AuditCall], None] | None = None,
) -> Path:
    """Write the corpus (`count` calls, default two of each kind) to `out` and its labels
    (AUDIT_LABELS_NAME); the labels' path. ValueError for a bad count, OSError as the file
    system raises it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    calls = plan_corpus(count if count is not None else 2 * len(KINDS), seed)
    for i, call in enumerate(calls):
        path = out / call.file
        write_wav(path, render(call, seed, i), "telephone")
        if on_written is not None:
            on_written(path, call)
    labels = AuditLabels(tuple(c.labels for c in calls), GENERATOR, seed, TOLERANCE_S)
    return write_audit_labels(out / AUDIT_LABELS_NAME, labels)

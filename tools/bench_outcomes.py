"""Outcomes benchmark: how often replay reaches the outcome a caller expects, on recordings of
our own made independently of the detector rules.

For each script (outbound, inbound) it renders the realistic corpus (ivr.synth.realistic) and
the field corpus (ivr.synth.field) into a temporary folder and replays every call without
recognition (ivr.call.replay.replay_file, what `ivr replay --asr none` runs), with the learned
speech stage on and off (detector setting `learned.enabled`, when the detectors have it). It
prints the share of right outcomes per script and per corpus part (realistic, field tuning,
field held out), a confusion table (expected outcome against the one reached) and the time the
replays took each way.

    python tools/bench_outcomes.py [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VALUES = {"agent_id": "1001", "number": "13812345678"}
SCRIPTS = ("outbound", "inbound")
PARTS = ("realistic", "field tuning", "field held_out")
LEARNED = "learned.enabled"


def render(folder: Path, seed: int):
    """Both scripts' realistic and field corpora under `folder`: a list of (script, part,
    path, channel, expected outcome), the scripts and the prompt cache."""
    from ivr.script import load_script
    from ivr.synth import load_manifest
    from ivr.synth.corpus import write_corpus
    from ivr.synth.field import field_call_specs
    from ivr.synth.field_render import write_field_corpus
    from ivr.synth.realistic import realistic_call_specs
    from ivr.tts.prompt_cache import PromptCache

    cache = PromptCache(folder / "prompts")
    calls, scripts = [], {}
    for name in SCRIPTS:
        script = scripts[name] = load_script(name, VALUES)
        audio = cache.render_all(script.prompts)
        frames = {p: a.frames for p, a in audio.items()}.__getitem__
        pairs = realistic_call_specs(script, frames, seed)
        real = write_corpus(
            [s for s, _ in pairs],
            folder / f"{name}-realistic",
            seed,
            expect_extra={s.name: e for s, e in pairs},
        )
        field = write_field_corpus(
            field_call_specs(script, frames, seed), folder / f"{name}-field", seed
        )
        for manifest_path, corpus in ((real, "realistic"), (field, "field")):
            manifest = load_manifest(manifest_path)
            raw = {
                c["file"]: c["expect"] for c in yaml.safe_load(manifest_path.read_text())["calls"]
            }
            for call in manifest.calls:
                expect = raw[call.file]
                part = corpus if corpus == "realistic" else f"field {expect['part']}"
                calls.append(
                    (name, part, manifest.audio_path(call), call.replay_channel, expect["outcome"])
                )
    return calls, scripts, cache


def replay_all(calls, scripts, cache, settings) -> tuple[list[str], float]:
    """The outcome of every call, and the time the replays took (s)."""
    from ivr.call.replay import replay_file

    start = time.perf_counter()
    got = [
        replay_file(path, scripts[name], cache, settings, channel=channel).outcome
        for name, _, path, channel, _ in calls
    ]
    return got, time.perf_counter() - start


def bench_outcomes(seed: int = 7) -> None:
    from ivr.detect import CallSettings

    ways = {"learned on": CallSettings()}
    if LEARNED in CallSettings.names():
        ways = {
            "learned on": CallSettings().with_overrides({LEARNED: 1}),
            "learned off": CallSettings().with_overrides({LEARNED: 0}),
        }
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        calls, scripts, cache = render(Path(tmp), seed)
        rendered = time.perf_counter() - start
        results = {label: replay_all(calls, scripts, cache, s) for label, s in ways.items()}
    print(
        f"outcomes of {len(calls)} calls (realistic and field corpora, both scripts, seed "
        f"{seed}), replayed without recognition; rendering took {rendered:.1f} s"
    )
    if len(ways) == 1:
        print(f"  (no `{LEARNED}` detector setting: one column)")
    labels = list(ways)
    print(f"  {'script':9s} {'part':15s} {'calls':>5s}" + "".join(f" {lab:>12s}" for lab in labels))
    for name in (*SCRIPTS, "both"):
        for part in (*PARTS, "all"):
            rows = [
                i for i, c in enumerate(calls) if name in (c[0], "both") and part in (c[1], "all")
            ]
            if not rows:
                continue
            cells = []
            for label in labels:
                got = results[label][0]
                right = sum(got[i] == calls[i][4] for i in rows)
                cells.append(f" {right:4d} {100 * right / len(rows):5.1f}%")
            print(f"  {name:9s} {part:15s} {len(rows):5d}" + "".join(f" {c:>12s}" for c in cells))
    for label in labels:
        got = results[label][0]
        pairs = Counter((c[4], g) for c, g in zip(calls, got, strict=True))
        outcomes = sorted({c[4] for c in calls} | set(got))
        print(f"  confusion, {label} (rows: expected, columns: reached)")
        width = max(len(o) for o in outcomes) + 1
        print("  " + " " * width + "".join(f"{o[:11]:>12s}" for o in outcomes))
        for expected in sorted({c[4] for c in calls}):
            counts = "".join(f"{pairs.get((expected, o), 0):12d}" for o in outcomes)
            print(f"  {expected:{width}s}{counts}")
    for label in labels:
        print(f"  replay time, {label}: {results[label][1]:.2f} s")
    if len(labels) == 2:
        on, off = (results[lab][1] for lab in labels)
        print(f"  ratio of times, {labels[0]} / {labels[1]}: {on / off:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="seed of both corpora")
    bench_outcomes(parser.parse_args().seed)


if __name__ == "__main__":
    main()

"""Outcomes benchmark: how often replay reaches the outcome a caller expects, on recordings of
our own made independently of the detector rules, and how fast it replays them.

For each script (outbound, inbound) it renders the realistic corpus (ivr.synth.realistic) and
the field corpus (ivr.synth.field) into a temporary folder and replays every call without
recognition (ivr.call.replay.replay_file, what `ivr replay --asr none` runs), with the learned
speech stage on and off (detector setting `learned.enabled`, when the detectors have it). It
prints, per script and corpus part (realistic, field tuning, field held out), the share of
right outcomes and, next to it, the share of calls right in full (outcome, prompts said and
event times as the manifest expects: ivr.call.expect.check_call, plus `expect: prompts`), a
confusion table (expected outcome against the one reached), the replay speed per part and way
(audio replayed over replay time, in times real time) and whether the targets are met.

Replays run on one core; each way is replayed twice, the ways taking turns (on, off, on, off),
and the best time of each call is kept.

    python tools/bench_outcomes.py [--seed 7]
"""

from __future__ import annotations

import argparse
import os
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
ROUNDS = 2
FRAME_S = 0.02
OUTCOME_TARGET = 97.0
"""Share of right outcomes (%) per script, realistic and field together, learned stage on."""
SPEED_TARGET = 300.0
"""Replay speed (x real time) on the realistic corpus, learned stage on."""


def render(folder: Path, seed: int):
    """Both scripts' realistic and field corpora under `folder`: a list of (script, part,
    path, channel, expected outcome, expectation, expected prompts or None), the scripts and
    the prompt cache."""
    from ivr.call.expect import load_expectations
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
            expectations = load_expectations(manifest_path)
            raw = {
                c["file"]: c["expect"] for c in yaml.safe_load(manifest_path.read_text())["calls"]
            }
            for call in manifest.calls:
                expect = raw[call.file]
                part = corpus if corpus == "realistic" else f"field {expect['part']}"
                path = manifest.audio_path(call)
                calls.append(
                    (name, part, path, call.replay_channel, expect["outcome"],
                     expectations.get(Path(call.file).name), expect.get("prompts"))
                )  # fmt: skip
    return calls, scripts, cache


def replay_all(calls, scripts, cache, ways: dict) -> dict[str, dict[str, list]]:
    """Per way: the outcome of every call, whether it is right in full, its audio (s) and its
    best replay time (s) over ROUNDS rounds, the ways taking turns; on one core."""
    from ivr.call.expect import check_call
    from ivr.call.replay import replay_file

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    results = {label: {"seconds": [float("inf")] * len(calls)} for label in ways}
    for _ in range(ROUNDS):
        for label, settings in ways.items():
            got, full, audio = [], [], []
            for i, (name, _, path, channel, outcome, expectation, prompts) in enumerate(calls):
                start = time.perf_counter()
                result = replay_file(path, scripts[name], cache, settings, channel=channel)
                elapsed = time.perf_counter() - start
                seconds = results[label]["seconds"]
                seconds[i] = min(seconds[i], elapsed)
                if expectation is not None:
                    right = not check_call(expectation, result.outcome, result.timeline)
                else:
                    right = result.outcome == outcome
                got.append(result.outcome)
                full.append(right and (prompts is None or result.prompts == prompts))
                audio.append(result.frames * FRAME_S)
            results[label].update(outcome=got, full=full, audio=audio)
    return results


def rows_of(calls, name: str, part: str) -> list[int]:
    """Indices of the calls of script `name` ("both": any) and part `part` ("all": any)."""
    return [i for i, c in enumerate(calls) if name in (c[0], "both") and part in (c[1], "all")]


def share(flags: list[bool], rows: list[int]) -> str:
    right = sum(flags[i] for i in rows)
    return f"{right:4d} {100 * right / len(rows):5.1f}%"


def bench_outcomes(seed: int = 7) -> None:
    from ivr.call_settings import CallSettings

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
        results = replay_all(calls, scripts, cache, ways)
    labels = list(ways)
    right = {
        lab: [g == c[4] for g, c in zip(results[lab]["outcome"], calls, strict=True)]
        for lab in labels
    }
    print(
        f"outcomes of {len(calls)} calls (realistic and field corpora, both scripts, seed "
        f"{seed}), replayed without recognition; rendering took {rendered:.1f} s"
    )
    if len(ways) == 1:
        print(f"  (no `{LEARNED}` detector setting: one column per table)")
    width = 13 * len(labels)
    print(
        f"  {'':9s} {'':15s} {'':5s} {'right outcome':^{width}s}   "
        f"{'outcome, prompts and times':^{width}s}"
    )
    heads = "".join(f" {lab:>12s}" for lab in labels)
    print(f"  {'script':9s} {'part':15s} {'calls':>5s}{heads}  {heads}")
    for name in (*SCRIPTS, "both"):
        for part in (*PARTS, "all"):
            rows = rows_of(calls, name, part)
            if not rows:
                continue
            outcome = "".join(f" {share(right[lab], rows):>12s}" for lab in labels)
            full = "".join(f" {share(results[lab]['full'], rows):>12s}" for lab in labels)
            print(f"  {name:9s} {part:15s} {len(rows):5d}{outcome}  {full}")
    for label in labels:
        got = results[label]["outcome"]
        pairs = Counter((c[4], g) for c, g in zip(calls, got, strict=True))
        outcomes = sorted({c[4] for c in calls} | set(got))
        print(f"  confusion, {label} (rows: expected, columns: reached)")
        width = max(len(o) for o in outcomes) + 1
        print("  " + " " * width + "".join(f"{o[:11]:>12s}" for o in outcomes))
        for expected in sorted({c[4] for c in calls}):
            counts = "".join(f"{pairs.get((expected, o), 0):12d}" for o in outcomes)
            print(f"  {expected:{width}s}{counts}")
    print(
        f"replay speed, one core, best of {ROUNDS} per call (ways taking turns), "
        "audio replayed over replay time"
    )
    speed = {}
    for part in (*PARTS, "all"):
        rows = rows_of(calls, "both", part)
        cells = []
        for label in labels:
            audio = sum(results[label]["audio"][i] for i in rows)
            seconds = sum(results[label]["seconds"][i] for i in rows)
            speed[part, label] = audio / seconds
            cells.append(
                f"{label} {audio / seconds:6.1f}x real time ({audio / 60:5.1f} min in "
                f"{seconds:5.1f} s)"
            )
        print(f"  {part:15s} " + "   ".join(cells))
    if len(labels) == 2:
        on, off = (sum(results[lab]["seconds"]) for lab in labels)
        print(f"  ratio of times, {labels[0]} / {labels[1]}: {on / off:.2f}")
    on = labels[0]
    fast = speed["realistic", on]
    print(
        f"  target: realistic corpus (continuous talkers) >= {SPEED_TARGET:.0f}x real time "
        f"with the learned stage on: {fast:.1f}x, {'met' if fast >= SPEED_TARGET else 'NOT met'}"
    )
    print(
        f"target: >= {OUTCOME_TARGET:.0f} % right outcomes on both scripts with the learned "
        "stage on"
    )
    for name in SCRIPTS:
        rows = rows_of(calls, name, "all")
        pct = 100 * sum(right[on][i] for i in rows) / len(rows)
        met = "met" if pct >= OUTCOME_TARGET else "NOT met"
        print(f"  {name:9s} {pct:5.1f}% of {len(rows)} calls (realistic + field): {met}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="seed of both corpora")
    bench_outcomes(parser.parse_args().seed)


if __name__ == "__main__":
    main()

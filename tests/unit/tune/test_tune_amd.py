"""`ivr tune` on answering-machine detection: a labelled corpus of real recordings (Asterisk's
recorded greetings and announcements as machines; real human hellos and long first sentences
followed by silence as humans), and a recommendation that tells them apart where Asterisk's
defaults do not."""

from __future__ import annotations

import numpy as np
import soundfile as sf
import soxr
import yaml
from realcall import CARDS, READER, at_level, line, place
from shared import ivr
from test_tune import rows_of

ALLISON = "/usr/share/asterisk/sounds/en_US_f_Allison/"
CALLS = [
    ("human_hello", [ALLISON + "hello.wav"], "no_answer"),
    ("human_card", [str(CARDS[0])], "no_answer"),
    ("human_long_1", [str(READER[1])], "no_answer"),
    ("human_long_2", [str(READER[4])], "no_answer"),
    ("machine_intro", [ALLISON + "vm-intro.wav"], "machine"),
    ("machine_noservice", [ALLISON + "ss-noservice.wav"], "machine"),
    ("machine_allbusy", [ALLISON + "tt-allbusy.wav"], "machine"),
]
"""(name, recordings said one after the other from 0.5 s, the outcome on outbound_amd): a
human then stays silent, so the script's opening goes unanswered (no_answer); a machine's
greeting never beeps here, so the call ends as `machine` after the beep timeout."""


def recording(path: str) -> np.ndarray:
    data, rate = sf.read(path, dtype="float64")
    if rate != 16000:
        data = soxr.resample(data, rate, 16000)
    return data * 32768


def test_tune_finds_amd_settings_that_tell_long_human_sentences_from_machines(tmp_path):
    corpus = tmp_path / "calls"
    corpus.mkdir()
    entries = []
    for i, (name, parts, outcome) in enumerate(CALLS):
        audio = np.concatenate([at_level(recording(p), -20.0) for p in parts])
        call = place(line(0.5 + audio.size / 16000 + 4.0, -66.0, seed=i), audio, 25)
        pcm = np.clip(np.rint(call), -32768, 32767).astype(np.int16)
        sf.write(corpus / f"{name}.wav", pcm, 16000)
        entries.append({"file": f"{name}.wav", "expect": {"outcome": outcome}})
    (corpus / "manifest.yaml").write_text(yaml.safe_dump({"version": 1, "calls": entries}))
    out = tmp_path / "out"
    args = ["tune", str(corpus), "--script", "outbound_amd",
            "--agent-id", "1", "--number", "1", "--grid", "amd.greeting_ms=1500,3000",
            "--grid", "amd.maximum_number_of_words=2,8", "--out", str(out),
            "--cache-dir", str(out / "cache")]  # fmt: skip
    done = ivr(*args, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {
        (int(float(r["amd.greeting_ms"])), int(float(r["amd.maximum_number_of_words"]))): r
        for r in rows_of(out)
    }
    # Asterisk's defaults take both long first sentences for greetings: 5 of 7 right
    assert abs(float(rows[1500, 2]["accuracy"]) - 5 / 7) < 1e-6
    amd = yaml.safe_load((out / "recommended.yaml").read_text())["detect"]["amd"]
    chosen = amd["greeting_ms"], amd["maximum_number_of_words"]
    assert chosen[0] == 3000 and float(rows[chosen]["accuracy"]) == 1.0

    # the overlay gives the same calls their right outcomes in plain replay
    files = [str(corpus / f"{name}.wav") for name, _, _ in CALLS]
    replay = ["replay", *files, "--script", "outbound_amd",
              "--agent-id", "1", "--number", "1",
              "--config", str(out / "recommended.yaml"), "--expect", str(corpus / "manifest.yaml"),
              "--no-db"]  # fmt: skip
    done = ivr(*replay, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr

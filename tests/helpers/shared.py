"""What many test files need: the repository's root, real human recordings and seeded tones, the
test values of the bundled scripts, the `ivr` command line, a text file in a temporary folder,
a streaming stage fed in pieces, the frames of a timeline's events, the prompts of a script
rendered to frames, and a corpus built once per test run.

tests/conftest.py puts this folder (tests/helpers/) on sys.path: `from shared import ...`.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf
import soxr

if TYPE_CHECKING:  # ivr is imported by the tests, after conftest has set its environment
    from ivr.script import Script
    from ivr.tts import PromptCache

ROOT = Path(__file__).resolve().parents[2]
"""The repository: the shipped scripts, prompts, tools and README."""

HELPERS = Path(__file__).resolve().parent
"""tests/helpers/: these modules, and the ones tests run as programs (early_media_network.py)."""

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
"""Real human recordings shipped by Debian's pocketsphinx-testdata (16 kHz mono)."""

HUMAN_WAVS = sorted(TESTDATA.glob("*/*.wav"))

ASTERISK_VOICES = tuple(
    f"/usr/share/asterisk/sounds/{voice}/demo-congrats.wav"
    for voice in ("en_US_f_Allison", "fr_CA_f_June", "ru_RU_f_IvrvoiceRU", "it_IT_m_Carlo")
)
"""Real talkers in four languages (Asterisk's prompts, `make test` installs them)."""

OUTBOUND_VALUES = {"agent_id": "1001", "number": "13812345678"}
"""Placeholder values of the bundled scripts' test calls (the number is the callee's)."""


def tone(freq_hz: float, seconds: float, dbfs: float, rate: int = 16000) -> np.ndarray:
    """A sine whose RMS is `dbfs` (0 dBFS = RMS of a full-scale square wave), int16."""
    t = np.arange(int(seconds * rate)) / rate
    amplitude = 10 ** (dbfs / 20) * np.sqrt(2) * 32768
    return np.rint(amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.int16)


def human_speech(index: int = 0) -> np.ndarray:
    """One real human recording as int16 at 16 kHz."""
    data, rate = sf.read(HUMAN_WAVS[index], dtype="int16")
    assert rate == 16000
    return data


def asterisk_voice(path: str | Path) -> np.ndarray:
    """One of Asterisk's prompts as float64 samples in +-1 at 16 kHz."""
    data, rate = sf.read(path, dtype="float64")
    return soxr.resample(data, rate, 16000) if rate != 16000 else data


def built_once(tmp_path_factory, name: str, build: Callable[[Path], Path]) -> Path:
    """What `build(folder)` returns (a corpus's manifest, say), built into a folder named `name`
    once per test run: the workers of `pytest -n` share it (the first builds it under a lock,
    the others wait and read it). Tests only read what is built; `name` says all its inputs."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    shelf = root / "built-once"
    shelf.mkdir(exist_ok=True)
    with open(shelf / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shelf / f"{name}.done"
        if not done.exists():
            done.write_text(str(build(shelf / name)), encoding="utf-8")
        return Path(done.read_text(encoding="utf-8"))


def ivr(
    *args: str,
    timeout: float = 120,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """`ivr ARGS...` as a user runs it (this interpreter's `python -m ivr`; in `cwd`, with the
    environment `env` if given), output captured (as text unless `text` is false): in a
    process forked from this one, which has the imports done (forked_cli.py); in a new
    interpreter when IVR_TESTS_SUBPROCESS=1 is set."""
    if not os.environ.get("IVR_TESTS_SUBPROCESS"):
        from forked_cli import run_ivr

        return run_ivr(list(args), timeout, cwd, env, text)
    return subprocess.run(
        [sys.executable, "-m", "ivr", *args],
        capture_output=True,
        text=text,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


def stop_process(process: subprocess.Popen, wait_s: float = 5.0) -> None:
    """End a helper process a fixture started: SIGTERM, and SIGKILL if it is still there after
    `wait_s` seconds."""
    process.terminate()
    try:
        process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def text_writer(default_name: str) -> Callable[..., Path]:
    """write(folder, text, name=default_name, encoding="utf-8"): the text as a file in folder."""

    def write(folder: Path, text: str, name: str = default_name, encoding: str = "utf-8") -> Path:
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


def in_pieces(process: Callable[[np.ndarray], np.ndarray], x: np.ndarray, cuts) -> np.ndarray:
    """`process` run over `x` cut at the indices `cuts` (along its first axis, in any order,
    repeats ignored), piece after piece, its outputs joined: a streaming stage fed in blocks."""
    edges = [0, *sorted(set(cuts)), len(x)]
    return np.concatenate([process(x[a:b]) for a, b in itertools.pairwise(edges)])


def frames_of(result, event: str, **match) -> list[int]:
    """The frame of each `event` record (whose fields equal `match`) of a call's timeline;
    `result` is a call result (its `.timeline`) or a timeline's records."""
    records = getattr(result, "timeline", result)
    return [
        r.frame
        for r in records
        if r.event == event and all(getattr(r, k, None) == v for k, v in match.items())
    ]


def script_frames(script: Script, cache: PromptCache | None = None) -> dict[str, int]:
    """Each prompt of `script` rendered (by `cache`, else a fresh default cache): id -> frames."""
    from ivr.tts import PromptCache

    audio = (cache or PromptCache()).render_all(script.prompts)
    return {p: a.frames for p, a in audio.items()}


class ManifestCalls:
    """The calls of a written corpus by situation, and their audio; needs `self.manifest`."""

    manifest: object

    def calls(self, situation: str, channel: str | None = None) -> list:
        return [
            c
            for c in self.manifest.calls
            if c.situation == situation and channel in (None, c.channel)
        ]

    def read(self, call) -> tuple[np.ndarray, int]:
        return sf.read(self.manifest.audio_path(call), dtype="int16")


KOREAN_SCRIPT = """\
script: korean
start: ask
prompts:
  ask: "您好!请问您是机主吗?"
  again: "对不起,我没听清楚您的讲话,您能再重复一遍吗?谢谢!"
  bye: "好的,谢谢您的接听,祝您生活愉快,再见!"
  sorry: "对不起,打扰您了,祝您生活愉快,再见!"
defaults:
  listen: {noinput_timeout_s: 3.0, end_of_speech_s: 0.8, max_speech_s: 10.0}
states:
  ask:
    say: [ask]
    listen: {}
    intents:
      yes: [네]
      no: [아니요]
    "on":
      yes: [{count: 1, do: [{goto: done}]}]
      no: [{count: 1, do: [{say: sorry}, {pause: 2}, {hangup: declined}]}]
      speech: [{count: 1, do: [{goto: done}]}]
      nomatch:
        - {count: 1, do: [{say: again}]}
        - {count: 2, do: [{say: sorry}, {pause: 2}, {hangup: nomatch}]}
      noinput:
        - {count: 1, do: [{say: again}]}
        - {count: 2, do: [{say: sorry}, {pause: 2}, {hangup: no_answer}]}
  done:
    say: [bye]
    do: [{pause: 2}, {hangup: answered}]
"""
"""A script whose intents are Korean words, for the real (Korean) Vosk model the tests run:
replay and a SIP call recognize the callee with it."""


@contextlib.contextmanager
def ctrl_c_as_at_a_terminal() -> Iterator[None]:
    """Children started within get Ctrl-C's default action (SIGINT ends them), as in a
    terminal, whatever this process has: a test run started in the background of a shell
    (`make test &`, nohup) ignores SIGINT, and its children would inherit that."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

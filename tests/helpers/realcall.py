"""Helpers for tests on real callers: real human recordings placed on a call, replayed.

The speech is Debian's pocketsphinx-testdata (a continuous reader from LibriVox, short phrases
from `cards`), placed by the test around the real length of our rendered prompts; nothing here
is shaped to the detectors' thresholds. Expected event times are worked out from what the
detectors report on the very file replayed (they do not depend on the dialog), so timing claims
hold to the frame.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import soundfile as sf
from shared import OUTBOUND_VALUES as VALUES
from shared import script_frames

from ivr.audio import FileSource
from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE, ms_to_frames
from ivr.call.replay import CallResult, replay_file
from ivr.call_settings import CallSettings
from ivr.detect import analyze
from ivr.events import Segment
from ivr.script import load_script
from ivr.script.model import Script
from ivr.timeline import TimelineRecord
from ivr.tts import PromptCache

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
READER = sorted((TESTDATA / "librivox").glob("*.wav"))
"""One reader, five sentences of 3-7 s with her own pauses inside."""
CARDS = sorted((TESTDATA / "cards").glob("*.wav"))
"""Short read phrases of other speakers (1.1-3.5 s)."""


def read(path: Path) -> np.ndarray:
    """A 16 kHz recording as float64 in int16 units."""
    data, rate = sf.read(path, dtype="int16")
    assert rate == SAMPLE_RATE
    return data.astype(np.float64)


def continuous_talker(seconds: float) -> np.ndarray:
    """The LibriVox reader going on for `seconds`: her sentences back to back, each with the
    pause she left at its edges, looped (float64, int16 units)."""
    pieces, total = [], 0
    while total < seconds * SAMPLE_RATE:
        for path in READER:
            pieces.append(read(path))
            total += pieces[-1].size
    return np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)]


def at_level(audio: np.ndarray, dbfs: float) -> np.ndarray:
    """`audio` scaled so that its loudest second has an RMS of `dbfs`."""
    second = SAMPLE_RATE
    windows = [audio[i : i + second] for i in range(0, max(1, audio.size - second + 1), second)]
    loudest = max(float(np.sqrt(np.mean(w * w))) for w in windows if w.size)
    return audio * (10 ** (dbfs / 20) * 32768 / loudest)


def line(seconds: float, noise_dbfs: float = -66.0, seed: int = 0) -> np.ndarray:
    """A quiet line: white noise at `noise_dbfs` (float64, int16 units)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(int(seconds * SAMPLE_RATE)) * 10 ** (noise_dbfs / 20) * 32768


def place(call: np.ndarray, audio: np.ndarray, at_frame: int) -> np.ndarray:
    """`audio` added to `call` from frame `at_frame` (cut at the call's end)."""
    out = call.copy()
    start = at_frame * FRAME_SAMPLES
    piece = audio[: max(0, out.size - start)]
    out[start : start + piece.size] += piece
    return out


def write(path: Path, audio: np.ndarray, subtype: str = "PCM_16", rate: int = SAMPLE_RATE) -> Path:
    """Clip to int16 and write a WAV."""
    samples = np.clip(np.rint(audio), -32768, 32767).astype(np.int16)
    if rate != SAMPLE_RATE:
        import soxr

        samples = soxr.resample(samples.astype(np.float32) / 32768, SAMPLE_RATE, rate)
    sf.write(path, samples, rate, subtype=subtype)
    return path


def segments(path: Path, settings: CallSettings | None = None) -> list[Segment]:
    """The speech segments the detectors find in a file."""
    return analyze(FileSource(path), settings).segments


@functools.cache
def prompt_frames(name: str) -> dict[str, int]:
    """Each prompt of the bundled script `name`, rendered: prompt id -> frames."""
    return script_frames(load_script(name, VALUES))


@functools.cache
def bundled(name: str) -> Script:
    """The bundled script `name` with the test values."""
    return load_script(name, VALUES)


def replay(path: Path, name: str, settings: CallSettings | None = None) -> CallResult:
    """Replay a file against bundled script `name` (detector-only: speech is an answer)."""
    return replay_file(path, bundled(name), PromptCache(), settings)


def records(result: CallResult, event: str) -> list[TimelineRecord]:
    """The timeline records of one kind."""
    return [r for r in result.timeline if r.event == event]


def frame_of(result: CallResult, event: str, index: int = 0) -> int:
    """The frame of the `index`-th record of `event`."""
    return records(result, event)[index].frame


def opening_frames(name: str) -> int:
    """Frames of the start state's prompts of bundled script `name`: the frame their playout
    ends (the call starts at frame 0 with them)."""
    script = bundled(name)
    return sum(prompt_frames(name)[p] for p in script.states[script.start].say)


def start_listen(name: str):
    """How the start state of bundled script `name` listens (its Listen)."""
    script = bundled(name)
    return script.states[script.start].listen


def examples(count: int):
    """Hypothesis settings for tests that replay a call per example: `count` examples."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def word_frames() -> int:
    """The shortest speech that counts (vad.onset_ms) in frames."""
    return ms_to_frames(CallSettings().front_end.vad.onset_ms)

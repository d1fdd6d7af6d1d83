"""Callee speech: Mandarin phrases synthesized with espeak-ng and real human recordings.

A phrase is either a text to synthesize or `human:<path>`, a recording under the
pocketsphinx-testdata directory (`/usr/share/pocketsphinx/test/data`, or `$IVR_TESTDATA_DIR`):
`cards/*.wav` and `librivox/*.wav` (16 kHz mono PCM_16 WAV, with transcriptions) and the
headerless `*.raw` files (16-bit little-endian signed mono at 16 kHz, no transcription).
Recordings of other Debian packages are named `alsa:<path>` and `asterisk:<path>` (see
ivr.synth.recordings); they are resampled to 16 kHz and cleaned the same way.

Every phrase comes back as 16 kHz samples (int16 units) padded with zeros to whole 20 ms frames.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import soundfile as sf
import soxr

from ivr.audio.format import FRAME_S, FRAME_SAMPLES, FULL_SCALE, SAMPLE_RATE
from ivr.errors import IvrError
from ivr.synth import recordings
from ivr.synth.levels import active_frames, active_level_dbfs, frame_powers, power_to_dbfs
from ivr.tts import PromptCache

DEFAULT_TESTDATA_DIR = Path("/usr/share/pocketsphinx/test/data")
"""Where Debian's pocketsphinx-testdata package installs its recordings."""

HUMAN_PREFIX = "human:"
"""Phrase prefix naming a recording (relative path under the testdata directory)."""

CALLEE_PHRASES = ("喂?", "喂,你好", "是的,我是", "不是", "听不清", "你说什么", "好的", "没问题")
"""What a callee says on answering a service call, synthesized with espeak-ng."""

HUMAN_PHRASES = (
    "human:cards/001.wav",
    "human:cards/002.wav",
    "human:cards/003.wav",
    "human:cards/004.wav",
    "human:cards/005.wav",
    "human:librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
    "human:librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
    "human:librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
    "human:librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
    "human:librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
)
"""Transcribed human recordings (English, 1.1-7.1 s long) usable as callee speech."""

BABBLE_TTS_PHRASES = (
    *CALLEE_PHRASES,
    "请问您是哪位?",
    "我现在不太方便,晚点再说吧",
    "你稍等一下,我去叫他",
    "我在开车,听不太清楚",
    "请再说一遍好吗",
    "谢谢,再见",
)
"""Synthesized sentences for background babble."""

BABBLE_HUMAN_PHRASES = (
    *HUMAN_PHRASES,
    "human:goforward.raw",
    "human:numbers.raw",
    "human:something.raw",
)
"""Human recordings for background babble (the raw files have no transcription)."""

_TRANSCRIPTIONS = ("cards/cards.transcription", "librivox/transcription")
_TRANSCRIPT_LINE = re.compile(r"^<s>\s*(.*?)\s*</s>\s*\((\S+)\)\s*$")

GATE_DEPTH_DB = 30.0
"""Attenuation of the pauses of a human recording (dB); see `clean_recording`."""


class RecordingsMissingError(IvrError):
    """The pocketsphinx-testdata recordings are not installed."""


@dataclass(frozen=True)
class Phrase:
    """One phrase ready to place in a call."""

    phrase: str
    """The phrase as given: a text or `human:<path>`."""
    text: str | None
    """What is said: the text, or the recording's transcription (None when there is none)."""
    source: str
    """`tts` or `human`."""
    samples: np.ndarray
    """16 kHz mono samples in int16 units (float64), a whole number of 20 ms frames."""

    @property
    def duration_s(self) -> float:
        """Length including leading and trailing silence (s)."""
        return len(self.samples) / SAMPLE_RATE

    @property
    def speech_span_s(self) -> tuple[float, float]:
        """Where its active speech (ivr.synth.levels.active_frames) starts and ends (s)."""
        active = np.flatnonzero(active_frames(self.samples))
        return float(active[0] * FRAME_S), float((active[-1] + 1) * FRAME_S)

    @property
    def max_level_dbfs(self) -> float:
        """Highest active speech level (dBFS) the phrase can be scaled to without clipping."""
        peak = float(np.max(np.abs(self.samples)))
        return active_level_dbfs(self.samples) - 20.0 * np.log10(peak / (FULL_SCALE - 1))


def recordings_dir() -> Path:
    """The pocketsphinx-testdata directory (`$IVR_TESTDATA_DIR` overrides the Debian path)."""
    return Path(os.environ.get("IVR_TESTDATA_DIR") or DEFAULT_TESTDATA_DIR)


def is_human(phrase: str) -> bool:
    """Whether `phrase` names a human recording rather than a text to synthesize."""
    return phrase.startswith(HUMAN_PREFIX) or recordings.recording_set(phrase) is not None


def load_phrase(phrase: str) -> Phrase:
    """The audio of `phrase` (cached per process). Raises `ValueError` on a malformed phrase
    and `RecordingsMissingError` when a recording is not installed."""
    return _load(phrase, str(recordings_dir()))


@functools.cache
def phrase_cache() -> PromptCache:
    """The callee phrases' renderings: the prompts' own cache (ivr.tts.PromptCache, on disk
    in `$IVR_CACHE_DIR/prompts`, default Mandarin voice), so a phrase is synthesized once per
    machine, not once per `ivr synth`."""
    return PromptCache()


@functools.lru_cache(maxsize=256)
def _load(phrase: str, root: str) -> Phrase:
    if not isinstance(phrase, str) or not phrase.strip():
        raise ValueError(f"phrase must be a non-empty text or {HUMAN_PREFIX}<path>, got {phrase!r}")
    if not is_human(phrase):
        samples = phrase_cache().get(phrase).samples.astype(np.float64)
        return _frozen(Phrase(phrase, phrase, "tts", _pad_to_frames(samples)))
    if not phrase.startswith(HUMAN_PREFIX):
        return _load_other(phrase)
    relative = PurePosixPath(phrase[len(HUMAN_PREFIX) :])
    if relative.is_absolute() or ".." in relative.parts or relative.suffix not in (".wav", ".raw"):
        raise ValueError(
            f"phrase {phrase!r}: expected {HUMAN_PREFIX}<relative path of a .wav or .raw file "
            f"under the pocketsphinx-testdata directory>"
        )
    path = Path(root) / relative
    if not path.is_file():
        raise RecordingsMissingError(_missing_message(Path(root), path))
    samples = clean_recording(_read_recording(path))
    text = _transcriptions(root).get(relative.stem)
    return _frozen(Phrase(phrase, text, "human", samples))


def _load_other(phrase: str) -> Phrase:
    """A recording of another package (`alsa:`, `asterisk:`); see ivr.synth.recordings."""
    try:
        found, path, text = recordings.resolve(phrase)
    except recordings.RecordingError as exc:
        raise ValueError(str(exc)) from None
    if not path.is_file():
        raise RecordingsMissingError(recordings.missing_message(found, path))
    return _frozen(Phrase(phrase, text, "human", clean_recording(_read_recording(path))))


def _missing_message(root: Path, path: Path) -> str:
    if not root.is_dir():
        return (
            f"{root}: pocketsphinx test recordings not found; "
            "install them with `apt-get install pocketsphinx-testdata`"
        )
    return f"{path}: recording not found in the pocketsphinx-testdata directory {root}"


def _read_recording(path: Path) -> np.ndarray:
    """Samples of a recording at 16 kHz (int16 units, float64)."""
    if path.suffix == ".raw":
        data = np.fromfile(path, dtype="<i2")
        return data.astype(np.float64)
    samples, rate = sf.read(path, dtype="int16", always_2d=True)
    mono = samples.astype(np.float64).mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ")
    return mono


def clean_recording(samples: np.ndarray) -> np.ndarray:
    """A human recording made usable as labelled speech: DC removed, pauses gated, trimmed.

    The recordings carry a DC offset (up to about -43 dBFS in librivox) and room noise at about
    -50 dBFS, within 35 dB of their loudest frames, so every frame would count as active speech.
    Frames more than 30 dB below the loudest and less than 8 dB above the recording's floor
    (10th percentile of frame levels) are attenuated by GATE_DEPTH_DB, with 60 ms margins around
    the speech and 10 ms gain ramps; leading and trailing gated frames are cut off.
    """
    x = _pad_to_frames(samples - np.mean(samples))
    level = power_to_dbfs(frame_powers(x))
    threshold = max(float(np.percentile(level, 10)) + 8.0, float(level.max()) - 30.0)
    speech = level >= threshold
    margin = 3
    kernel = np.ones(2 * margin + 1)
    speech = np.convolve(speech.astype(float), kernel, mode="same") > 0
    frames = np.flatnonzero(speech)
    gain = np.where(speech, 1.0, 10.0 ** (-GATE_DEPTH_DB / 20.0))
    centres = (np.arange(len(gain)) + 0.5) * FRAME_SAMPLES
    x = x * np.interp(np.arange(len(x)), centres, gain)
    return x[frames[0] * FRAME_SAMPLES : (frames[-1] + 1) * FRAME_SAMPLES]


@functools.lru_cache(maxsize=4)
def _transcriptions(root: str) -> dict[str, str]:
    """Recording stem to transcription, from the testdata transcription files."""
    texts: dict[str, str] = {}
    for name in _TRANSCRIPTIONS:
        path = Path(root) / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _TRANSCRIPT_LINE.match(line.strip())
            if match:
                texts[match.group(2)] = " ".join(match.group(1).split())
    return texts


def _pad_to_frames(samples: np.ndarray) -> np.ndarray:
    extra = (-len(samples)) % FRAME_SAMPLES
    return np.concatenate([samples, np.zeros(extra)]) if extra else samples


def _frozen(phrase: Phrase) -> Phrase:
    phrase.samples.flags.writeable = False
    return phrase

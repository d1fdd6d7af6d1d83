"""A disk cache of rendered prompts, so a call never waits for synthesis.

Each prompt is rendered once per (text, voice, rate, volume) with `Synthesizer`, padded with
zeros to a whole number of 20 ms frames and stored as `<key>.wav` (16 kHz mono PCM_16), where
the key is a SHA-256 of the text, the voice settings and `FORMAT_VERSION`. A JSON sidecar
`<key>.json` beside it names the settings and the text (phone numbers masked) for people
browsing the directory; only the WAV is read back. Files are written atomically, so several
processes may share one directory. Because the samples are padded to whole frames, a prompt's
duration is known exactly, in frames, before it is played.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ivr.atomic import atomic_path
from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE, frames_to_seconds
from ivr.errors import IvrError
from ivr.privacy import mask_number
from ivr.tts.synthesizer import Synthesizer, VoiceSettings

FORMAT_VERSION = "ivr-prompt/1: espeak-ng worker, 16 kHz mono PCM_16, zero-padded to 20 ms"
"""Part of every key: change it whenever rendering or the file layout changes, so old files
are no longer used."""

CACHE_DIR_ENV = "IVR_CACHE_DIR"
"""Environment variable naming ivr's cache root; prompts go in its `prompts` folder."""


def default_directory() -> Path:
    """`$IVR_CACHE_DIR/prompts`, or `~/.cache/ivr/prompts` when the variable is unset or empty."""
    root = os.environ.get(CACHE_DIR_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "ivr"
    return base / "prompts"


@dataclass(frozen=True, eq=False)
class PromptAudio:
    """One rendered prompt: 16 kHz mono int16 samples, a whole number of 20 ms frames.

    Created from the synthesizer's samples, which are padded at the end with zeros to whole
    frames; `samples` is read-only.
    """

    text: str
    samples: np.ndarray = field(repr=False)
    """int16 samples at 16 kHz, `frames * 320` of them (read-only)."""
    key: str
    """The cache key: hex SHA-256 of the text, voice settings and format version."""
    frames: int = field(init=False)
    """Length in 20 ms frames."""

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim != 1 or samples.dtype != np.int16:
            raise ValueError(
                f"samples must be one channel of int16, got {samples.dtype} {samples.shape}"
            )
        frames = math.ceil(len(samples) / FRAME_SAMPLES)
        padded = np.zeros(frames * FRAME_SAMPLES, dtype=np.int16)
        padded[: len(samples)] = samples
        padded.flags.writeable = False
        object.__setattr__(self, "samples", padded)
        object.__setattr__(self, "frames", frames)

    @property
    def duration_s(self) -> float:
        """Length (s): `frames` x 0.02 s, exact to the sample."""
        return frames_to_seconds(self.frames)


class PromptCache:
    """Rendered prompts on disk (and in memory), keyed by text and voice settings.

    `get` reads a prompt from memory or disk, or renders and stores it. A cache file that
    cannot be used (not a WAV, wrong rate, channels or length) is rendered again and replaced;
    a directory that cannot be written raises a one-line `IvrError` naming it. Safe to use from
    several threads.
    """

    def __init__(self, directory: Path | None = None, voice: VoiceSettings | None = None):
        """`directory` defaults to `default_directory()` (created on the first store), `voice`
        to `VoiceSettings()`."""
        voice = VoiceSettings() if voice is None else voice
        self.directory = (
            Path(directory).expanduser() if directory is not None else default_directory()
        )
        if not isinstance(voice, VoiceSettings):
            raise TypeError(f"voice must be a VoiceSettings, got {type(voice).__name__}")
        self.voice = voice
        self._memo: dict[str, PromptAudio] = {}
        self._by_text: dict[str, PromptAudio] = {}  # the same, by text (no hashing per call)
        self._lock = threading.Lock()
        self._synthesizer: Synthesizer | None = None

    def __repr__(self) -> str:
        return f"PromptCache({str(self.directory)!r}, {self.voice!r})"

    def key_for(self, text: str) -> str:
        """The key of `text` with this cache's voice settings (64 hex digits)."""
        _check_text(text)
        identity = {
            "format": FORMAT_VERSION,
            "text": text,
            "voice": self.voice.voice,
            "rate": self.voice.rate,
            "volume": self.voice.volume,
        }
        payload = json.dumps(identity, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def path_for(self, text: str) -> Path:
        """The WAV file that holds (or will hold) `text` rendered with this cache's voice."""
        return self.directory / f"{self.key_for(text)}.wav"

    def contains(self, text: str) -> bool:
        """Whether `text` is in memory, or on disk as a 16 kHz mono PCM_16 WAV (header only)."""
        key = self.key_for(text)
        if key in self._memo:
            return True
        try:
            info = sf.info(str(self.directory / f"{key}.wav"))
        except (RuntimeError, OSError, ValueError):
            return False
        return _usable_format(info.samplerate, info.channels, info.subtype)

    def get(self, text: str) -> PromptAudio:
        """`text` rendered with this cache's voice: from memory, from disk, or synthesized."""
        audio = self._by_text.get(text)
        if audio is None:
            audio = self._by_text[text] = self.lookup(text)[0]
        return audio

    def lookup(self, text: str) -> tuple[PromptAudio, bool]:
        """Like `get`, also saying whether the prompt was already cached (False: rendered now)."""
        key = self.key_for(text)
        audio = self._memo.get(key)
        if audio is not None:
            return audio, True
        with self._lock:
            audio = self._memo.get(key)
            if audio is not None:
                return audio, True
            path = self.directory / f"{key}.wav"
            samples = _read(path)
            cached = samples is not None
            if samples is None:
                audio = PromptAudio(text, self._render(text), key)
                self._store(audio, path)
            else:
                audio = PromptAudio(text, samples, key)
            self._memo[key] = audio
            return audio, cached

    def render_all(self, texts: Mapping[str, str]) -> dict[str, PromptAudio]:
        """Every text of `texts` (prompt id -> text) rendered: prompt id -> audio, same order."""
        return {prompt_id: self.get(text) for prompt_id, text in texts.items()}

    def _render(self, text: str) -> np.ndarray:
        """Synthesize `text` (int16, 16 kHz mono, not yet padded)."""
        if self._synthesizer is None:
            v = self.voice
            self._synthesizer = Synthesizer(voice=v.voice, rate=v.rate, volume=v.volume)
        return self._synthesizer.render(text)

    def _store(self, audio: PromptAudio, path: Path) -> None:
        sidecar = {
            "text": mask_number(audio.text),
            "voice": self.voice.voice,
            "rate_wpm": self.voice.rate,
            "volume": self.voice.volume,
            "frames": audio.frames,
            "duration_s": audio.duration_s,
            "format": FORMAT_VERSION,
        }
        try:
            with atomic_path(path.with_suffix(".json")) as tmp:
                tmp.write_text(
                    json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
                )
            with atomic_path(path) as tmp:
                sf.write(tmp, audio.samples, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        except (OSError, RuntimeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise IvrError(
                f"prompt cache directory {self.directory} is not writable: {reason}"
            ) from None


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string, got {text!r}")


def _usable_format(rate: int, channels: int, subtype: str) -> bool:
    return rate == SAMPLE_RATE and channels == 1 and subtype == "PCM_16"


def _read(path: Path) -> np.ndarray | None:
    """The samples of a cache file, or None if it is missing or unusable."""
    try:
        with sf.SoundFile(str(path)) as f:
            if not _usable_format(f.samplerate, f.channels, f.subtype):
                return None
            samples = f.read(dtype="int16")
    except (RuntimeError, OSError, ValueError):
        return None
    if len(samples) == 0 or len(samples) % FRAME_SAMPLES:
        return None
    return samples

"""Offline speech synthesis with espeak-ng through pyttsx3, resampled to ivr's 16 kHz format.

pyttsx3 is imported on first use, so importing this module has no side effects. espeak-ng can
be initialised only once per process, hence one engine shared by every `Synthesizer`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from ivr.audio.format import SAMPLE_RATE
from ivr.errors import IvrError

RATE_RANGE = (80, 450)
"""Speaking rates espeak-ng accepts (words per minute)."""

VOLUME_RANGE = (0.0, 1.0)
"""Volumes accepted: 0.0 (silent) to 1.0 (espeak-ng's full output)."""

_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, int, float], np.ndarray] = {}


class TtsError(IvrError):
    """Speech synthesis is unavailable or failed: the message names the cause and the fix."""


def _engine() -> Any:
    """The process-wide pyttsx3 espeak engine, created on first use (call with the lock held)."""
    global _ENGINE
    if _ENGINE is None:
        try:
            import pyttsx3

            _ENGINE = pyttsx3.init("espeak")
        except (ImportError, OSError, RuntimeError) as exc:
            raise TtsError(
                f"espeak-ng speech synthesis unavailable ({exc}); "
                "install it with `apt-get install espeak-ng libespeak-ng1`"
            ) from exc
        # Let the engine go while the interpreter is intact: pyttsx3's finalizer fails when it
        # runs during interpreter teardown.
        atexit.register(_release_engine)
    return _ENGINE


def _release_engine() -> None:
    global _ENGINE
    with _ENGINE_LOCK:
        _ENGINE = None


@functools.cache
def available_voices() -> tuple[str, ...]:
    """Names of the installed espeak-ng voices (e.g. `cmn-latn-pinyin`)."""
    with _ENGINE_LOCK:
        voices = _engine().getProperty("voices")
    return tuple(sorted({v.id.rsplit("/", 1)[-1] for v in voices}))


class Synthesizer:
    """Renders text as 16 kHz mono int16 speech with one espeak-ng voice, rate and volume.

    The audio is what espeak-ng produces (including its own leading and trailing silence, about
    0.3 s at the end), resampled from espeak-ng's 22.05 kHz. Results are cached in memory per
    (text, voice, rate, volume), shared by all instances.
    """

    def __init__(self, voice: str = "cmn-latn-pinyin", rate: int = 175, volume: float = 1.0):
        """Check the settings; `rate` in words per minute, `volume` from 0.0 to 1.0.

        Raises `ValueError` naming the parameter and its allowed range or values, and `TtsError`
        when espeak-ng is unavailable.
        """
        if isinstance(rate, bool) or not isinstance(rate, int):
            raise ValueError(f"rate must be a whole number of words per minute, got {rate!r}")
        if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
            raise ValueError(
                f"rate must be in {RATE_RANGE[0]}..{RATE_RANGE[1]} words per minute, got {rate}"
            )
        if isinstance(volume, bool) or not isinstance(volume, int | float):
            raise ValueError(f"volume must be a number in 0.0..1.0, got {volume!r}")
        if not VOLUME_RANGE[0] <= volume <= VOLUME_RANGE[1]:
            raise ValueError(f"volume must be in 0.0..1.0, got {volume}")
        if not isinstance(voice, str) or not voice:
            raise ValueError(f"voice must be an espeak-ng voice name, got {voice!r}")
        voices = available_voices()
        if voice not in voices:
            raise ValueError(
                f"voice must be an installed espeak-ng voice (e.g. cmn-latn-pinyin, "
                f"{len(voices)} installed), got {voice!r}"
            )
        self.voice = voice
        self.rate = rate
        self.volume = float(volume)

    def __repr__(self) -> str:
        return f"Synthesizer(voice={self.voice!r}, rate={self.rate}, volume={self.volume})"

    def render(self, text: str) -> np.ndarray:
        """Speak `text`: int16 samples at 16 kHz mono (read-only array, shared by the cache)."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text must be a non-empty string, got {text!r}")
        key = (text, self.voice, self.rate, self.volume)
        cached = _CACHE.get(key)
        if cached is None:
            cached = self._synthesize(text)
            cached.flags.writeable = False
            _CACHE[key] = cached
        return cached

    def _synthesize(self, text: str) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
            wav_path = Path(tmp) / "speech.wav"
            with _ENGINE_LOCK:
                engine = _engine()
                engine.setProperty("voice", self.voice)
                engine.setProperty("rate", self.rate)
                engine.setProperty("volume", self.volume)
                # The espeak driver announces every saved file on stdout.
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, os.fspath(wav_path))
                    engine.runAndWait()
            if not wav_path.exists():
                raise TtsError(f"espeak-ng produced no audio for {text!r}")
            samples, rate = sf.read(wav_path, dtype="float64", always_2d=False)
        if samples.ndim != 1:
            samples = samples.mean(axis=1)
        if rate != SAMPLE_RATE:
            samples = soxr.resample(samples, rate, SAMPLE_RATE, quality="HQ")
        return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)

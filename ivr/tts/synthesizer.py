"""Offline speech synthesis with espeak-ng through pyttsx3, resampled to ivr's 16 kHz format.

Prompt durations must be known to the sample and the same text must always give the same
samples. Two things stand in the way inside one process: pyttsx3's `Engine` drives espeak-ng
asynchronously and a voice or rate change queued just before a synthesis is sometimes applied
late, and espeak-ng itself carries state from one utterance to the next (the same text comes
out a few samples longer or shorter). So each utterance is rendered by `espeak_worker.py`, run
in a fresh process with pyttsx3's binding of libespeak-ng in synchronous mode (about 50 ms),
and results are cached in memory. Importing this module has no side effects.
"""

from __future__ import annotations

import functools
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from ivr.audio.format import SAMPLE_RATE
from ivr.errors import IvrError

RATE_RANGE = (80, 450)
"""Speaking rates espeak-ng accepts (words per minute)."""

VOLUME_RANGE = (0.0, 1.0)
"""Volumes accepted: 0.0 (silent) to 1.0 (espeak-ng's full output, its volume 100)."""

WORKER = Path(__file__).with_name("espeak_worker.py")
"""The script that renders one utterance in a process of its own."""

WORKER_TIMEOUT_S = 60.0
"""Longest a single rendering may take (s)."""

_CACHE: dict[tuple[str, str, int, float], np.ndarray] = {}


@dataclass(frozen=True)
class VoiceSettings:
    """How prompts are spoken: espeak-ng voice, rate (words per minute), volume (0.0 to 1.0).

    Checked on creation (`ValueError` naming the parameter and its range); whether the voice is
    installed is checked when a prompt is first synthesized with it.
    """

    voice: str = "cmn-latn-pinyin"
    rate: int = 175
    """Speaking rate (words per minute), 80..450."""
    volume: float = 1.0
    """Volume from 0.0 (silent) to 1.0 (espeak-ng's full output)."""

    def __post_init__(self) -> None:
        rate, volume, voice = self.rate, self.volume, self.voice
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
        if not isinstance(voice, str) or not voice.strip():
            raise ValueError(f"voice must be an espeak-ng voice name, got {voice!r}")
        object.__setattr__(self, "volume", float(volume))


class TtsError(IvrError):
    """Speech synthesis is unavailable or failed: the message names the cause and the fix."""


def _run_worker(args: list[str], text: str = "") -> bytes:
    """Run the espeak-ng worker; its stdout, or TtsError with its one-line reason."""
    try:
        done = subprocess.run(
            [sys.executable, str(WORKER), *args],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TtsError(f"espeak-ng speech synthesis failed to run: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1] if reason else f"exit status {done.returncode}"
        raise TtsError(
            f"{detail}; install espeak-ng with `apt-get install espeak-ng libespeak-ng1`"
        )
    return done.stdout


@functools.cache
def available_voices() -> tuple[str, ...]:
    """Names of the installed espeak-ng voices (e.g. `cmn-latn-pinyin`)."""
    names = _run_worker(["--list-voices"]).decode("utf-8").split()
    return tuple(sorted(set(names)))


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
        volume = VoiceSettings(voice, rate, volume).volume
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
        volume = round(self.volume * 100)
        data = _run_worker([self.voice, str(self.rate), str(volume)], text)
        if len(data) < 4:
            raise TtsError(f"espeak-ng produced no audio for {text!r}")
        (espeak_rate,) = struct.unpack("<I", data[:4])
        samples = np.frombuffer(data[4:], dtype="<i2").astype(np.float64) / 32768.0
        if espeak_rate != SAMPLE_RATE:
            samples = soxr.resample(samples, espeak_rate, SAMPLE_RATE, quality="HQ")
        return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)

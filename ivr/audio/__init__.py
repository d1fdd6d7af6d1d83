"""Audio in and out: sources that yield 20 ms frames of 16 kHz mono int16, and WAV writing."""

from ivr.audio.format import FRAME_MS, FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from ivr.audio.source import CHANNELS, FileSource, RawFormat, open_source

__all__ = [
    "CHANNELS",
    "FRAME_MS",
    "FRAME_S",
    "FRAME_SAMPLES",
    "SAMPLE_RATE",
    "FileSource",
    "RawFormat",
    "open_source",
]

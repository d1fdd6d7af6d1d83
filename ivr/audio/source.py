"""Audio files as a stream of 20 ms frames of 16 kHz mono int16.

Reads what call recorders write: PCM WAV at any rate and width, 8 kHz G.711 mu-law and A-law
WAV, FLAC (anything libsndfile decodes), stereo files with one party per side, and headerless
raw audio with an explicit rate and encoding. Files are read block by block and resampled with
a streaming `soxr` resampler, so memory does not grow with the length of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.audio.framing import Framer, to_int16
from ivr.audio.sniff import cannot_read, describe_unreadable, wav_declared_frames
from ivr.errors import AudioFormatError

CHANNELS = ("left", "right", "mix")
"""Which side of a stereo recording is the callee: left, right, or the mix of all channels."""

RAW_ENCODINGS: dict[str, tuple[str, str, int]] = {
    "s16le": ("PCM_16", "LITTLE", 2),
    "s16be": ("PCM_16", "BIG", 2),
    "s8": ("PCM_S8", "FILE", 1),
    "u8": ("PCM_U8", "FILE", 1),
    "mulaw": ("ULAW", "FILE", 1),
    "alaw": ("ALAW", "FILE", 1),
    "f32le": ("FLOAT", "LITTLE", 4),
}
"""Headerless encodings: name -> (libsndfile subtype, byte order, bytes per sample)."""

RAW_SUFFIXES = frozenset({".raw", ".pcm", ".sln", ".ul", ".ulaw", ".mulaw", ".al", ".alaw"})
"""File endings taken as headerless audio, which needs an explicit RawFormat."""

_INT16_SUBTYPES = frozenset({"PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW"})
"""Subtypes that libsndfile decodes to int16 exactly; others are read as float32."""

FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
"""Subtypes that can hold NaN and infinite samples: scanned once when the file is opened."""

SCAN_BLOCK_SAMPLES = 1 << 16
"""Sample frames per block of that scan (bounded memory, whatever the file's length)."""

DEFAULT_BLOCK_FRAMES = 1000
"""Frames per block yielded by `FileSource.blocks` (1000 frames = 20 s): the detectors cost a
fixed amount per block besides their cost per frame, so a whole file goes faster in large
blocks; from about 1500 frames on (2 MB of float samples a block) the C library's allocator
hands the blocks' memory back to the system and fetches it again for every block, and a file
goes slower (measured by tools/bench.py's front end)."""


@dataclass(frozen=True)
class RawFormat:
    """How to read a headerless file: sample rate (Hz), encoding (see RAW_ENCODINGS), channels."""

    rate: int
    encoding: str = "s16le"
    channels: int = 1

    def __post_init__(self) -> None:
        if not 1000 <= self.rate <= 384_000:
            raise ValueError(f"raw rate must be 1000..384000 Hz, got {self.rate!r}")
        if self.encoding not in RAW_ENCODINGS:
            raise ValueError(
                f"raw encoding must be one of {', '.join(RAW_ENCODINGS)}, got {self.encoding!r}"
            )
        if not 1 <= self.channels <= 8:
            raise ValueError(f"raw channels must be 1..8, got {self.channels!r}")

    @property
    def frame_bytes(self) -> int:
        """Bytes per sample frame (all channels)."""
        return RAW_ENCODINGS[self.encoding][2] * self.channels


@dataclass(frozen=True)
class SourceInfo:
    """What a file holds before conversion: rate (Hz), channels, container and codec."""

    path: str
    rate: int
    channels: int
    container: str
    codec: str
    samples: int
    """Samples per channel the file holds (libsndfile's count: for a WAV cut short, what is
    there, not what its header says)."""
    nonfinite: int = 0
    """NaN or infinite samples (all channels) in a float file: read as silence."""
    warnings: tuple[str, ...] = ()
    """What is odd about the file but does not stop it being read, each a few words: cut
    short (the length read against the header's), non-finite samples replaced by silence."""

    @property
    def duration_s(self) -> float:
        """Declared duration (s)."""
        return self.samples / self.rate


class FileSource:
    """A recording read as 20 ms frames of 16 kHz mono int16, block by block.

    Opening checks the file at once and raises `AudioFormatError` (file name and reason, one
    line) for anything unreadable, including a float file without one finite sample; what is
    odd but readable is in `info.warnings`. `blocks()` can be iterated any number of times.
    """

    def __init__(
        self,
        path: str | Path,
        channel: str = "mix",
        raw: RawFormat | None = None,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
    ) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"invalid channel: {channel!r} (expected left, right or mix)")
        if block_frames <= 0:
            raise ValueError(f"block_frames must be > 0, got {block_frames}")
        self.path = Path(path)
        self.channel = channel
        self.raw = raw
        self.block_frames = block_frames
        self.info = self._probe()

    @property
    def name(self) -> str:
        """The file name, for messages and reports."""
        return self.path.name

    def _open_args(self) -> dict:
        if self.raw is None:
            return {}
        subtype, endian, _ = RAW_ENCODINGS[self.raw.encoding]
        return {
            "format": "RAW",
            "subtype": subtype,
            "endian": endian,
            "samplerate": self.raw.rate,
            "channels": self.raw.channels,
        }

    def _probe(self) -> SourceInfo:
        path = self.path
        if not path.exists():
            raise AudioFormatError(path, "no such file")
        if path.is_dir():
            raise AudioFormatError(path, "is a directory, not an audio file")
        if not path.is_file():
            raise AudioFormatError(path, "not a regular file (a pipe, socket or device)")
        try:
            with open(path, "rb") as f:
                f.read(1)
            size = path.stat().st_size
        except OSError as exc:
            raise AudioFormatError(path, cannot_read(exc)) from None
        if size == 0:
            raise AudioFormatError(path, "empty file (0 bytes)")
        if self.raw is None and path.suffix.lower() in RAW_SUFFIXES:
            raise AudioFormatError(
                path,
                "headerless raw audio: give its rate and encoding (--raw-rate, --raw-encoding)",
            )
        if self.raw is not None:
            self._check_raw(size)
        try:
            with sf.SoundFile(str(path), **self._open_args()) as f:
                info = SourceInfo(
                    str(path), f.samplerate, f.channels, f.format, f.subtype, f.frames
                )
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise AudioFormatError(path, describe_unreadable(path, exc)) from None
        if info.samples <= 0:
            raise AudioFormatError(path, "no audio: the file holds 0 samples")
        if info.rate < 1000:
            raise AudioFormatError(path, f"implausible sample rate {info.rate} Hz")
        return self._odd(info)

    def _odd(self, info: SourceInfo) -> SourceInfo:
        """`info` with what is odd about the file: a WAV cut short, non-finite float samples
        (AudioFormatError when no sample is finite)."""
        warnings = []
        declared = wav_declared_frames(self.path) if self.raw is None else None
        if declared is not None and declared > info.samples:
            warnings.append(
                f"truncated: {info.samples / info.rate:.2f} s of audio where its header says "
                f"{declared / info.rate:.2f} s ({info.samples} of {declared} samples)"
            )
        nonfinite = 0
        if info.codec in FLOAT_SUBTYPES:
            nonfinite = self._count_nonfinite(info)
            total = info.samples * info.channels
            if nonfinite >= total:
                raise AudioFormatError(
                    self.path, f"no finite sample: all {total} samples are NaN or infinite"
                )
            if nonfinite:
                warnings.append(
                    f"{nonfinite} of {total} samples are NaN or infinite: read as silence"
                )
        return replace(info, nonfinite=nonfinite, warnings=tuple(warnings))

    def _count_nonfinite(self, info: SourceInfo) -> int:
        """NaN and infinite samples in the whole file (all channels), read block by block."""
        dtype = "float64" if info.codec == "DOUBLE" else "float32"
        count = 0
        try:
            with sf.SoundFile(str(self.path), **self._open_args()) as f:
                for block in f.blocks(blocksize=SCAN_BLOCK_SAMPLES, dtype=dtype, always_2d=True):
                    count += block.size - int(np.count_nonzero(np.isfinite(block)))
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioFormatError(self.path, f"cannot decode: {exc}") from None
        return count

    def _check_raw(self, size: int) -> None:
        assert self.raw is not None
        with open(self.path, "rb") as f:
            head = f.read(12)
        if head[:4] in (b"RIFF", b"RIFX", b"RF64") or head[:4] == b"fLaC":
            raise AudioFormatError(
                self.path,
                "has a file header, not headerless raw audio: read it without raw options",
            )
        if size % self.raw.frame_bytes:
            raise AudioFormatError(
                self.path,
                f"size {size} bytes is not a whole number of {self.raw.frame_bytes}-byte samples "
                f"({self.raw.encoding}, {self.raw.channels} channel(s)): wrong raw parameters?",
            )

    def _select(self, block: np.ndarray) -> np.ndarray:
        """One channel of a (samples, channels) block, as 1-D."""
        if block.shape[1] == 1:
            return block[:, 0]
        if self.channel == "left":
            return block[:, 0]
        if self.channel == "right":
            return block[:, 1]
        if block.dtype == np.int16:
            return np.rint(block.mean(axis=1, dtype=np.float32)).astype(np.int16)
        return block.mean(axis=1, dtype=np.float32)

    def samples(self) -> Iterator[np.ndarray]:
        """Yield chunks of 16 kHz mono int16 samples (1-D), in order, the whole file."""
        info = self.info
        int16_path = info.codec in _INT16_SUBTYPES
        dtype = "int16" if int16_path else "float32"
        in_block = max(1, round(self.block_frames * FRAME_SAMPLES * info.rate / SAMPLE_RATE))
        # soxr resamples float32: its int16 output is dithered (random), which would make
        # replays of the same file differ.
        resampler = None
        if info.rate != SAMPLE_RATE:
            resampler = soxr.ResampleStream(info.rate, SAMPLE_RATE, 1, dtype="float32")
        try:
            with sf.SoundFile(str(self.path), **self._open_args()) as f:
                for block in f.blocks(blocksize=in_block, dtype=dtype, always_2d=True):
                    if info.nonfinite:
                        block = np.nan_to_num(block, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
                    mono = self._select(block)
                    if resampler is not None:
                        if mono.dtype == np.int16:
                            mono = mono.astype(np.float32) * np.float32(1 / 32768)
                        out = resampler.resample_chunk(mono, last=False)
                        if out.size:
                            yield to_int16(out)
                    elif mono.dtype == np.int16:
                        yield mono
                    else:
                        yield to_int16(mono)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioFormatError(self.path, f"cannot decode: {exc}") from None
        if resampler is not None:
            tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            if tail.size:
                yield to_int16(tail)

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield blocks of whole frames, shape (n, 320) int16; the last frame is zero-padded."""
        framer = Framer()
        for chunk in self.samples():
            frames = framer.push(chunk)
            if frames.shape[0]:
                yield frames
        last = framer.flush()
        if last.shape[0]:
            yield last

    def frames(self) -> Iterator[np.ndarray]:
        """Yield single frames (320 int16 samples each)."""
        for block in self.blocks():
            yield from block

    def read_all(self) -> np.ndarray:
        """The whole file as one (n, 320) int16 array (for short files and tests)."""
        blocks = list(self.blocks())
        if not blocks:
            return np.zeros((0, FRAME_SAMPLES), dtype=np.int16)
        return np.concatenate(blocks)

    def __repr__(self) -> str:
        return (
            f"FileSource({str(self.path)!r}, channel={self.channel!r}, rate={self.info.rate}, "
            f"codec={self.info.codec}, duration={self.info.duration_s:.2f}s)"
        )


def open_source(path: str | Path, channel: str = "mix", raw: RawFormat | None = None) -> FileSource:
    """Open a recording as a frame source (see FileSource)."""
    return FileSource(path, channel=channel, raw=raw)

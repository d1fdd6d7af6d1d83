"""Saying why a file cannot be read, in words a user can act on."""

from __future__ import annotations

import struct
from pathlib import Path

WAV_CODECS = {
    0x0001: "PCM",
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0006: "G.711 A-law",
    0x0007: "G.711 mu-law",
    0x0011: "IMA ADPCM",
    0x0014: "G.723 ADPCM",
    0x0022: "TrueSpeech",
    0x0031: "GSM 6.10",
    0x0040: "G.721 ADPCM",
    0x0050: "MPEG audio",
    0x0055: "MPEG Layer 3 (MP3)",
    0x0064: "G.726 ADPCM",
    0x0065: "G.722 ADPCM",
    0x0083: "G.729",
    0x00FF: "AAC",
    0xA100: "G.723.1",
    0xFFFE: "extensible",
}
"""WAV format tags and their names, for error messages."""


def _wav_format_tag(head: bytes) -> int | None:
    """The format tag of a RIFF/WAVE header's fmt chunk, or None if there is none in `head`."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        chunk_id, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt ":
            if pos + 10 > len(head):
                return None
            return struct.unpack("<H", head[pos + 8 : pos + 10])[0]
        pos += 8 + size + (size & 1)
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text)


def cannot_read(exc: OSError) -> str:
    """Why a file cannot be read, in a few words (`cannot read: permission denied`)."""
    reason = (exc.strerror or type(exc).__name__).lower()
    return f"cannot read: {reason}"


def describe_unreadable(path: Path, exc: Exception) -> str:
    """One line saying why libsndfile could not open `path` (its own words as a last resort)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as err:
        return cannot_read(err)
    detail = str(exc).split(":", 1)[-1].strip() if str(exc) else type(exc).__name__
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        tag = _wav_format_tag(head)
        if tag is None:
            return f"truncated or corrupt WAV header ({detail})"
        name = WAV_CODECS.get(tag, "unknown")
        if tag in (0x0001, 0x0003, 0x0006, 0x0007):
            return f"corrupt WAV file ({name}: {detail})"
        return (
            f"unsupported WAV codec {name} (format tag 0x{tag:04X}); "
            "convert to PCM, mu-law or A-law WAV, or FLAC"
        )
    if head[:4] == b"RIFF":
        return f"RIFF file that is not WAVE ({detail})"
    if _looks_like_text(head):
        return "not audio: the file holds text"
    return f"unrecognised audio format ({detail})"


PCM_LIKE_TAGS = frozenset({0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE})
"""WAV format tags whose block align is the bytes of one sample frame (all channels), so that
the data chunk's size gives the number of frames."""

UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})
"""Data chunk sizes that mean "not known" (a recorder that streams, or never finished the
header), not a length."""

MAX_CHUNKS = 64
"""Chunks looked at before the data chunk, at most (a header is a handful)."""


def wav_declared_frames(path: Path) -> int | None:
    """Sample frames a RIFF/WAVE file's header declares (its data chunk's size over the block
    align), or None: not a WAV file, a codec whose blocks are not frames, or a size left
    unknown. Compared with what the file holds, it tells a file cut short."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            align = None
            for _ in range(MAX_CHUNKS):
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if chunk_id == b"fmt ":
                    fmt = f.read(min(size, 16))
                    if len(fmt) < 14 or struct.unpack("<H", fmt[:2])[0] not in PCM_LIKE_TAGS:
                        return None
                    align = struct.unpack("<H", fmt[12:14])[0]
                    f.seek(size + (size & 1) - len(fmt), 1)
                elif chunk_id == b"data":
                    if not align or size in UNKNOWN_SIZES:
                        return None
                    return size // align
                else:
                    f.seek(size + (size & 1), 1)
    except OSError:
        return None
    return None

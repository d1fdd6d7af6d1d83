"""The far end's audio for SIPp (tools/sipp/): real speech and silence as G.711 mu-law RTP in a
pcap that SIPp's `play_pcap_audio` replays, one 20 ms packet (160 bytes of PCMU) every 20 ms.

The speech is Debian's pocketsphinx-testdata recordings (16 kHz mono), resampled to 8 kHz and
mu-law encoded here; the pcaps are generated when a test or the benchmark needs them (a few
hundred kB each, never committed), into a folder it names (`write_pcaps`). SIPp replays each
packet's payload at its pcap time stamp and rewrites the addresses and ports, so only the RTP
header (sequence number, time stamp, SSRC, payload type 0) and the packet times matter; the
Ethernet, IPv4 and UDP headers are still written whole and correct.

    python tools/sipp_audio.py FOLDER     # writes the pcaps below into FOLDER
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import ivr  # noqa: F401  (first: it sets numpy's OpenBLAS threads, ivr.BLAS_THREADS)

# isort: split
import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
"""Real human recordings shipped by Debian's pocketsphinx-testdata (16 kHz mono)."""

RATE = 8000
"""G.711's sample rate (Hz)."""

PACKET_SAMPLES = 160
"""Samples of one 20 ms RTP packet at 8 kHz (one byte each in PCMU)."""

PCMU = 0
"""RTP payload type of G.711 mu-law."""

Segment = str | float
"""A part of a callee's audio: a recording under TESTDATA (e.g. "cards/001.wav") or seconds of
silence."""

PCAPS: dict[str, tuple[Segment, ...]] = {
    # a callee who answers "hello" at once, then listens for the rest of the call
    "callee_hello.pcap": (0.3, "cards/001.wav", 25.0),
    # a callee who waits through a short first prompt, then speaks, then is silent
    "callee_speech.pcap": (2.0, "cards/005.wav", 20.0),
    # a caller who waits through the greeting, says what they want, then listens
    "caller_speech.pcap": (4.0, "cards/005.wav", 12.0),
    # a caller who says one word and hangs up (the call rate benchmark)
    "caller_short.pcap": (0.2, "cards/001.wav", 0.2),
}
"""The pcaps `write_pcaps` makes, by file name: their parts in order."""


def mulaw(samples: np.ndarray) -> np.ndarray:
    """G.711 mu-law bytes (uint8) of int16 samples (ITU-T G.711 on the top 14 bits, as
    `audioop.lin2ulaw`)."""
    x = samples.astype(np.int32) >> 2
    mask = np.where(x < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(x), 8159) + 0x21
    segment = np.floor(np.log2(magnitude)).astype(np.int32) - 5
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment > 7, 0x7F, code)  # beyond the last segment: its top
    return (code ^ mask).astype(np.uint8)


def callee_audio(parts: tuple[Segment, ...]) -> np.ndarray:
    """The int16 samples at 8 kHz of `parts` played one after another."""
    pieces = []
    for part in parts:
        if isinstance(part, str):
            data, rate = sf.read(TESTDATA / part, dtype="int16")
            if rate != 16000:
                raise ValueError(f"invalid recording rate {rate!r} of {part}: 16000 Hz expected")
            down = resample_poly(data.astype(np.float64), 1, 2)
            pieces.append(np.clip(np.rint(down), -32768, 32767).astype(np.int16))
        else:
            pieces.append(np.zeros(round(part * RATE), np.int16))
    audio = np.concatenate(pieces)
    return np.pad(audio, (0, -audio.size % PACKET_SAMPLES))


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _packet(payload: bytes, source: tuple[str, int], target: tuple[str, int]) -> bytes:
    """An Ethernet frame of an IPv4 UDP datagram carrying `payload` (UDP checksum 0: none)."""
    udp = struct.pack("!HHHH", source[1], target[1], 8 + len(payload), 0) + payload
    addresses = bytes(map(int, source[0].split("."))) + bytes(map(int, target[0].split(".")))
    ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0) + addresses
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    ethernet = bytes(6) + bytes(6) + struct.pack("!H", 0x0800)
    return ethernet + ip + udp


def write_rtp_pcap(path: Path, samples: np.ndarray, ssrc: int = 0x1F2E3D4C) -> int:
    """Write `samples` (int16, 8 kHz) as PCMU RTP packets of 20 ms to the pcap `path`; the
    number of packets."""
    payload = mulaw(samples).tobytes()
    count = len(payload) // PACKET_SAMPLES
    source, target = ("127.0.0.1", 6000), ("127.0.0.1", 6002)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # LINKTYPE_ETHERNET
    for i in range(count):
        marker = 0x80 if i == 0 else 0  # the first packet of a talk spurt
        rtp = struct.pack("!BBHII", 0x80, marker | PCMU, i & 0xFFFF, i * PACKET_SAMPLES, ssrc)
        chunk = payload[i * PACKET_SAMPLES : (i + 1) * PACKET_SAMPLES]
        frame = _packet(rtp + chunk, source, target)
        micros = i * 20_000
        out.append(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame),
                               len(frame)) + frame)  # fmt: skip
    path.write_bytes(b"".join(out))
    return count


def write_pcaps(folder: Path) -> dict[str, float]:
    """Write PCAPS into `folder` (made if need be; kept if already there); each one's length
    (s) by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    lengths = {}
    for name, parts in PCAPS.items():
        samples = callee_audio(parts)
        path = folder / name
        if not path.exists():
            partial = path.with_suffix(".part")
            write_rtp_pcap(partial, samples)
            partial.replace(path)
        lengths[name] = samples.size / RATE
    return lengths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.rsplit("\n\n", 1)[1])
    for name, seconds in write_pcaps(Path(sys.argv[1])).items():
        print(f"{name}: {seconds:.1f} s")

"""tools/sipp_audio.py: the far end's speech as PCMU RTP in a pcap SIPp replays."""

from __future__ import annotations

import struct

import numpy as np
import sipp_audio


def test_mulaw_codes_follow_g711_over_every_int16_value():
    samples = np.arange(-32768, 32768, dtype=np.int16)
    codes = sipp_audio.mulaw(samples)
    # G.711's reference points: silence is 0xFF, full scale 0x00 / 0x80, and codes fall as
    # the magnitude rises on each side
    assert codes[32768] == 0xFF and codes[0] == 0x00 and codes[-1] == 0x80
    assert np.all(np.diff(codes[32768:].astype(int)) <= 0)
    assert np.all(np.diff(codes[:32768].astype(int)) >= 0)


def test_a_pcap_holds_one_20_ms_pcmu_packet_per_160_samples_in_order(tmp_path):
    samples = np.zeros(160 * 5, np.int16)
    path = tmp_path / "x.pcap"
    assert sipp_audio.write_rtp_pcap(path, samples) == 5
    data = path.read_bytes()
    magic, major, minor, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, link) == (0xA1B2C3D4, 2, 4, 1)
    offset, seen = 24, []
    while offset < len(data):
        seconds, micros, length, _ = struct.unpack("<IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + length]
        rtp = frame[14 + 20 + 8 :]
        version, kind, seq, stamp = struct.unpack("!BBHI", rtp[:8])
        assert version == 0x80 and kind & 0x7F == 0 and len(rtp) == 12 + 160
        assert rtp[12:] == b"\xff" * 160  # silence
        seen.append((seconds * 1_000_000 + micros, seq, stamp))
        offset += 16 + length
    assert seen == [(i * 20_000, i, i * 160) for i in range(5)]


def test_the_callee_audio_is_speech_and_silence_at_8_khz_in_whole_packets():
    audio = sipp_audio.callee_audio((0.5, "cards/001.wav", 0.5))
    assert audio.size % 160 == 0
    assert not audio[:4000].any() and np.abs(audio[4000:-4000]).max() > 1000

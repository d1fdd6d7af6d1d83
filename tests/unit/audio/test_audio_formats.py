"""Every supported format reads to the same frames as the PCM original (within codec error)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shared import human_speech

from ivr.audio import FRAME_SAMPLES, FileSource, RawFormat, open_source


def padded(x: np.ndarray) -> np.ndarray:
    """Samples as whole frames, the last zero-padded: what a source must yield."""
    n = -(-len(x) // FRAME_SAMPLES) * FRAME_SAMPLES
    out = np.zeros(n, np.int16)
    out[: len(x)] = x
    return out.reshape(-1, FRAME_SAMPLES)


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    ref = reference.astype(np.float64).ravel()
    err = ref - test.astype(np.float64).ravel()
    return 10 * np.log10(np.sum(ref * ref) / max(np.sum(err * err), 1e-9))


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return human_speech(0)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("pcm16.wav", {"subtype": "PCM_16"}),
        ("pcm24.wav", {"subtype": "PCM_24"}),
        ("pcm32.wav", {"subtype": "PCM_32"}),
        ("float.wav", {"subtype": "FLOAT"}),
        ("lossless.flac", {}),
    ],
)
def test_lossless_formats_read_exactly(write_wav, speech, name, kwargs):
    data = speech.astype(np.float32) / 32768 if kwargs.get("subtype") == "FLOAT" else speech
    path = write_wav(name, data, 16000, **kwargs)
    assert np.array_equal(open_source(path).read_all(), padded(speech))


@pytest.mark.parametrize("subtype", ["ULAW", "ALAW"])
def test_g711_reads_like_its_pcm_original(write_wav, speech, subtype):
    narrow = soxr.resample(speech.astype(np.float32) / 32768, 16000, 8000)
    pcm = open_source(write_wav("pcm8k.wav", narrow, 8000, subtype="PCM_16")).read_all()
    g711 = open_source(write_wav(f"{subtype}.wav", narrow, 8000, subtype=subtype)).read_all()
    assert g711.shape == pcm.shape
    assert snr_db(pcm, g711) > 30  # G.711 quantisation noise is about 38 dB down


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_other_rates_are_resampled_in_time(write_wav, speech, rate):
    """A file at any rate lands on the same frames as the 16 kHz original, no delay."""
    resampled = soxr.resample(speech.astype(np.float32) / 32768, 16000, rate)
    frames = open_source(write_wav(f"r{rate}.wav", resampled, rate)).read_all()
    reference = padded(speech)
    assert abs(frames.shape[0] - reference.shape[0]) <= 1
    n = min(frames.shape[0], reference.shape[0])
    if rate < 16000:  # band-limited: compare with the original limited to the same band
        band = soxr.resample(soxr.resample(speech.astype(np.float32), 16000, rate), rate, 16000)
        reference = padded(np.rint(band).astype(np.int16))
    assert snr_db(reference[:n], frames[:n]) > 25


def test_stereo_channels(write_wav, speech):
    other = human_speech(1)[: len(speech)]
    other = np.pad(other, (0, len(speech) - len(other)))
    path = write_wav("stereo.wav", np.stack([speech, other], axis=1), 16000, subtype="PCM_16")
    assert np.array_equal(open_source(path, channel="left").read_all(), padded(speech))
    assert np.array_equal(open_source(path, channel="right").read_all(), padded(other))
    mix = np.rint((speech.astype(np.float64) + other) / 2).astype(np.int16)
    assert np.abs(open_source(path, channel="mix").read_all().astype(int) - padded(mix)).max() <= 1


def test_stereo_8k_mulaw_right_channel(write_wav, speech):
    narrow = soxr.resample(speech.astype(np.float32) / 32768, 16000, 8000)
    silent = np.zeros_like(narrow)
    path = write_wav("call.wav", np.stack([silent, narrow], axis=1), 8000, subtype="ULAW")
    right = open_source(path, channel="right").read_all()
    left = open_source(path, channel="left").read_all()
    assert np.abs(left).max() <= 8  # mu-law's smallest step around zero
    reference = open_source(write_wav("mono.wav", narrow, 8000, subtype="ULAW")).read_all()
    assert np.array_equal(right, reference)


def test_mono_file_ignores_channel_choice(write_wav, speech):
    path = write_wav("mono.wav", speech, 16000)
    left = open_source(path, channel="left").read_all()
    assert np.array_equal(left, open_source(path, channel="right").read_all())


@pytest.mark.parametrize(
    ("encoding", "subtype", "endian"),
    [
        ("s16le", "PCM_16", "LITTLE"),
        ("s16be", "PCM_16", "BIG"),
        ("mulaw", "ULAW", "FILE"),
        ("alaw", "ALAW", "FILE"),
        ("u8", "PCM_U8", "FILE"),
        ("f32le", "FLOAT", "LITTLE"),
    ],
)
def test_raw_reads_like_wav(tmp_path: Path, speech, encoding, subtype, endian):
    narrow = soxr.resample(speech.astype(np.float32) / 32768, 16000, 8000)
    raw = tmp_path / "call.raw"
    sf.write(raw, narrow, 8000, format="RAW", subtype=subtype, endian=endian)
    wav = tmp_path / "call.wav"
    sf.write(wav, narrow, 8000, subtype=subtype if subtype != "PCM_U8" else "PCM_U8")
    from_raw = open_source(raw, raw=RawFormat(8000, encoding)).read_all()
    assert np.array_equal(from_raw, open_source(wav).read_all())


def test_raw_stereo(tmp_path: Path, speech):
    stereo = np.stack([speech, -speech], axis=1)
    raw = tmp_path / "stereo.pcm"
    stereo.astype("<i2").tofile(raw)
    right = open_source(raw, channel="right", raw=RawFormat(16000, "s16le", channels=2))
    assert np.array_equal(right.read_all(), padded(-speech))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=arrays(np.int16, st.integers(1, 5000), elements=st.integers(-32768, 32767)),
    block_frames=st.integers(1, 20),
)
def test_any_pcm_file_round_trips_in_any_block_size(tmp_path, data, block_frames):
    path = tmp_path / "x.wav"
    sf.write(path, data, 16000, subtype="PCM_16")
    source = FileSource(path, block_frames=block_frames)
    blocks = list(source.blocks())
    assert all(b.shape[0] <= block_frames + 1 for b in blocks)  # streaming, bounded blocks
    assert np.array_equal(np.concatenate(blocks), padded(data))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=arrays(np.int16, st.integers(1, 4000), elements=st.integers(-32768, 32767)),
    block_frames=st.integers(1, 12),
)
def test_resampled_stream_does_not_depend_on_block_size(tmp_path, data, block_frames):
    path = tmp_path / "x8k.wav"
    sf.write(path, data, 8000, subtype="PCM_16")
    whole = FileSource(path, block_frames=10_000).read_all()
    chunked = FileSource(path, block_frames=block_frames).read_all()
    assert chunked.shape == whole.shape
    assert np.abs(chunked.astype(int) - whole).max() <= 1  # float rounding only


def test_source_can_be_read_twice(write_wav, speech):
    source = open_source(write_wav("a.wav", speech))
    assert np.array_equal(source.read_all(), source.read_all())
    assert source.info.rate == 16000 and source.info.channels == 1


def test_resampled_reads_are_deterministic(write_wav, speech):
    """No dither or other randomness: the same file always gives the same frames."""
    narrow = soxr.resample(speech.astype(np.float32) / 32768, 16000, 8000)
    path = write_wav("u.wav", narrow, 8000, subtype="ULAW")
    reads = [FileSource(path, block_frames=b).read_all() for b in (500, 500, 500)]
    assert np.array_equal(reads[0], reads[1]) and np.array_equal(reads[1], reads[2])

"""Bad input: one clear line naming the file and the problem, and the batch goes on."""

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from shared import human_speech, ivr

from ivr.audio import RawFormat, open_source
from ivr.errors import AudioFormatError


def wav_with_codec(path: Path, tag: int, payload: bytes = b"\x01" * 400) -> Path:
    """A RIFF/WAVE file whose fmt chunk declares codec `tag`."""
    fmt = struct.pack("<HHIIHH", tag, 1, 8000, 1000, 1, 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload)) + payload
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def make_bad_inputs(folder: Path) -> dict[str, tuple[Path, dict, str]]:
    """name -> (path, open_source kwargs, expected words in the reason)."""
    good = folder / "good.wav"
    sf.write(good, human_speech(0), 16000, subtype="PCM_16")
    header = good.read_bytes()
    cases = {}
    (folder / "empty.wav").write_bytes(b"")
    cases["empty file"] = (folder / "empty.wav", {}, "empty file")
    sf.write(folder / "zero.wav", np.zeros(0, np.int16), 16000, subtype="PCM_16")
    cases["zero-length audio"] = (folder / "zero.wav", {}, "0 samples")
    (folder / "truncated.wav").write_bytes(header[:30])
    cases["truncated header"] = (folder / "truncated.wav", {}, "WAV")
    (folder / "notes.wav").write_text("call notes: customer asked for a callback\n")
    cases["text named .wav"] = (folder / "notes.wav", {}, "text")
    wav_with_codec(folder / "mp3.wav", 0x0055)
    cases["unsupported codec"] = (folder / "mp3.wav", {}, "unsupported WAV codec")
    wav_with_codec(folder / "g729.wav", 0x0083)
    cases["unsupported codec g729"] = (folder / "g729.wav", {}, "G.729")
    (folder / "odd.raw").write_bytes(b"\x00" * 1001)
    cases["wrong raw parameters"] = (
        folder / "odd.raw",
        {"raw": RawFormat(8000, "s16le")},
        "wrong raw parameters",
    )
    cases["raw options on a WAV"] = (good, {"raw": RawFormat(8000, "s16le")}, "file header")
    (folder / "noparams.raw").write_bytes(b"\x00" * 1000)
    cases["raw without parameters"] = (folder / "noparams.raw", {}, "--raw-rate")
    cases["missing file"] = (folder / "missing.wav", {}, "no such file")
    (folder / "calls").mkdir()
    cases["directory"] = (folder / "calls", {}, "directory")
    return cases


@pytest.fixture
def bad_inputs(tmp_path):
    return make_bad_inputs(tmp_path)


CASE_NAMES = [
    "empty file",
    "zero-length audio",
    "truncated header",
    "text named .wav",
    "unsupported codec",
    "unsupported codec g729",
    "wrong raw parameters",
    "raw options on a WAV",
    "raw without parameters",
    "missing file",
    "directory",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bad_input_raises_one_line_naming_the_file(bad_inputs, case):
    path, kwargs, words = bad_inputs[case]
    with pytest.raises(AudioFormatError) as info:
        open_source(path, **kwargs).read_all()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path) + ": ")
    assert words in message
    assert info.value.path == str(path)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"rate": 0}, "raw rate"),
        ({"rate": 8000, "encoding": "gsm"}, "raw encoding"),
        ({"rate": 8000, "channels": 0}, "raw channels"),
    ],
)
def test_impossible_raw_parameters_are_caller_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        RawFormat(**kwargs)


def test_invalid_channel_is_a_caller_error(tmp_path):
    with pytest.raises(ValueError, match="invalid channel: 'both'"):
        open_source(tmp_path / "x.wav", channel="both")


def test_detect_reports_each_bad_file_and_goes_on(bad_inputs, tmp_path):
    """`ivr detect` prints one line per bad file, analyses the good ones, exits non-zero."""
    good = tmp_path / "good.wav"
    paths = [str(p) for p, kwargs, _ in bad_inputs.values() if not kwargs]
    result = ivr("detect", *paths, str(good), timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == len(paths)
    for path in paths:
        assert any(path in line for line in error_lines), path
    assert "good.wav: speech" in result.stdout

"""Every option that takes a path or a choice, given a wrong value, prints one line naming the
option or file and the problem, and exits 2, never a traceback.

Commands that need a microphone or the network (call, dial, serve, campaign) are given only
values they must refuse before opening any device or socket. The table below is the
enumeration: command line, then words the one error line must hold. (`ivr detect` reports a
missing recording among the others and goes on: tests/unit/audio/test_audio_errors.py.)
"""

from __future__ import annotations

import faulthandler

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from ivr.cli import app

V = ("--agent-id", "1001", "--number", "13812345678")
"""Placeholder values of the bundled outbound script, so that a later check is reached."""
URI = "sip:13812345678@127.0.0.1:9"
TRUNK = ("--trunk", "sip:{number}@127.0.0.1:9")

TINY = """\
script: tiny
start: ask
prompts: {hello: 您好}
states:
  ask:
    say: hello
    listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 5.0}
    on:
      speech: [{do: [{hangup: answered}]}]
      noinput: [{count: 1, do: [{hangup: no_answer}]}]
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Paths the cases use: W a recording, F a file, D a folder, M missing, B broken YAML,
    CSV a call list, S a tiny script, DB1 a one-byte file (no call log)."""
    root = tmp_path_factory.mktemp("wrong")
    sf.write(root / "call.wav", np.zeros(8000, dtype=np.int16), 8000)
    (root / "file.txt").write_text("x\n", encoding="utf-8")
    (root / "dir").mkdir()
    (root / "bad.yaml").write_text("a: [1, 2\n", encoding="utf-8")
    (root / "list.csv").write_text("number\n13812345678\n", encoding="utf-8")
    (root / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (root / "one.db").write_bytes(b"x")
    names = {"W": "call.wav", "F": "file.txt", "D": "dir", "M": "missing.yaml",
             "B": "bad.yaml", "CSV": "list.csv", "S": "tiny.yaml", "DB1": "one.db"}  # fmt: skip
    return {key: str(root / name) for key, name in names.items()}


CASES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    # replay
    (("replay", "W", "--channel", "center"), ("--channel", "'center'", "left", "mix")),
    (("replay", "W", "--report", "F"), ("--report", "file.txt", "is a file")),
    (("replay", "W", "--out", "F"), ("--out", "file.txt", "is a file")),
    (("replay", "W", "--expect", "M"), ("--expect", "missing.yaml", "does not exist")),
    (("replay", "W", "--expect", "D"), ("--expect", "is a directory")),
    (("replay", "W", *V, "--expect", "B"), ("bad.yaml", "YAML")),
    (("replay", "W", "--config", "M"), ("--config", "missing.yaml", "does not exist")),
    (("replay", "W", "--config", "D"), ("--config", "is a directory")),
    (("replay", "W", *V, "--config", "B"), ("bad.yaml", "YAML")),
    (("replay", "W", *V, "--set", "nonsense"), ("NAME=VALUE", "nonsense")),
    (("replay", "W", *V, "--set", "vad.nope=1"), ("vad.nope",)),
    (("replay", "W", "--db", "D"), ("--db", "is a directory")),
    (("replay", "W", *V, "--asr", "bogus"), ("--asr", "bogus")),
    (("replay", "W", "--cache-dir", "F"), ("--cache-dir", "is a file")),
    (("replay", "W", *V, "--script", "nosuch"), ("nosuch", "no such script")),
    (("replay", "M"), ("missing.yaml", "does not exist")),
    (("replay", "W", *V, "--model", "M"), ("missing.yaml",)),
    (("replay", "W", "--jobs", "0"), ("--jobs",)),
    (("replay", "W", "--jobs", "many"), ("--jobs", "integer")),
    # detect
    (("detect", "W", "--channel", "centre"), ("--channel", "'centre'", "left")),
    (("detect", "W", "--expect", "M"), ("--expect", "missing.yaml")),
    (("detect", "W", "--expect", "B"), ("bad.yaml", "YAML")),
    (("detect", "W", "--config", "M"), ("--config", "missing.yaml")),
    (("detect", "W", "--config", "B"), ("bad.yaml", "YAML")),
    (("detect", "W", "--set", "nonsense"), ("NAME=VALUE",)),
    (("detect", "W", "--raw-rate", "8000", "--raw-encoding", "bogus"), ("bogus", "s16le")),
    (("detect", "W", "--script", "nosuch"), ("nosuch",)),
    # tune
    (("tune", "M", "--grid", "vad.hangover_ms=100:200:100"), ("missing.yaml", "does not exist")),
    (("tune", "F", "--grid", "vad.hangover_ms=100:200:100"), ("file.txt", "is a file")),
    (("tune", "D", "--grid", "bad"), ("--grid", "bad")),
    (("tune", "D", "--grid", "a=1:2:1", "--manifest", "M"), ("--manifest", "missing.yaml")),
    (("tune", "D", "--grid", "a=1:2:1", "--out", "F"), ("--out", "is a file")),
    (("tune", "D", "--grid", "a=1:2:1", "--config", "M"), ("--config", "missing.yaml")),
    (("tune", "D", "--grid", "a=1:2:1", "--channel", "Center"), ("--channel", "'Center'")),
    (("tune", "D", "--grid", "a=1:2:1", "--cache-dir", "F"), ("--cache-dir", "is a file")),
    (("tune", "D", "--grid", "a=1:2:1", "--prompt-cache", "F"), ("--prompt-cache", "is a file")),
    (("tune", "D", "--grid", "a=1:2:1", "--asr", "bogus"), ("--asr", "bogus")),
    # synth
    (("synth", "--out", "F"), ("--out", "is a file")),
    (("synth", "--out", "D", "--script", "nosuch"), ("nosuch", "no such script")),
    (("synth", "--out", "D", "--script", "S", "--cache-dir", "F"), ("--cache-dir", "is a file")),
    (("synth", "--out", "D", "--count", "0"), ("--count", "greater than or equal to 1")),
    # call (no device opened)
    (("call", "--record", "D"), ("--record", "is a directory")),
    (("call", "--config", "M"), ("--config", "missing.yaml")),
    (("call", "--config", "B"), ("bad.yaml", "YAML")),
    (("call", "--db", "D"), ("--db", "is a directory")),
    (("call", "--report", "F"), ("--report", "is a file")),
    (("call", "--cache-dir", "F"), ("--cache-dir", "is a file")),
    (("call", "--asr", "bogus"), ("--asr", "bogus")),
    (("call", "--script", "nosuch"), ("nosuch", "no such script")),
    (("call", *V, "--set", "x"), ("NAME=VALUE",)),
    # dial (no socket opened)
    (("dial", URI, "--record", "D"), ("--record", "is a directory")),
    (("dial", URI, "--config", "M"), ("--config", "missing.yaml")),
    (("dial", URI, "--db", "D"), ("--db", "is a directory")),
    (("dial", URI, "--report", "F"), ("--report", "is a file")),
    (("dial", URI, "--asr", "reference"), ("--asr", "reference")),
    (("dial", URI, *V, "--set", "x"), ("NAME=VALUE",)),
    (("dial", URI, *V, "--listen", "nowhere:abc"), ("--listen", "nowhere:abc")),
    (("dial", "13812345678"), ("SIP address", "138****5678")),
    # serve (no socket opened)
    (("serve", "--out", "F"), ("--out", "is a file")),
    (("serve", "--config", "M"), ("--config", "missing.yaml")),
    (("serve", "--db", "D"), ("--db", "is a directory")),
    (("serve", "--report", "F"), ("--report", "is a file")),
    (("serve", "--cache-dir", "F"), ("--cache-dir", "is a file")),
    (("serve", "--listen", "nowhere:abc"), ("--listen", "nowhere:abc")),
    (("serve", "--asr", "bogus"), ("--asr", "bogus")),
    # campaign (no socket opened)
    (("campaign", "M"), ("missing.yaml", "does not exist")),
    (("campaign", "D"), ("dir", "is a directory")),
    (("campaign", "CSV", "--dnc", "M"), ("--dnc", "missing.yaml")),
    (("campaign", "CSV", "--out", "F"), ("--out", "is a file")),
    (("campaign", "CSV", "--config", "B"), ("bad.yaml", "YAML")),
    (("campaign", "CSV", "--db", "D"), ("--db", "is a directory")),
    (("campaign", "CSV", "--report", "F"), ("--report", "is a file")),
    (("campaign", "CSV", "--hours", "25-26"), ("hours", "25-26")),
    (("campaign", "CSV", "--days", "xyz"), ("days", "xyz")),
    (("campaign", "CSV", "--listen", "nowhere:abc"), ("--listen", "nowhere:abc")),
    (("campaign", "CSV", "--asr", "bogus"), ("--asr", "bogus")),
    (("campaign", "CSV", "--script", "S", "--shard", "3/2"), ("--shard", "3/2")),
    (("campaign", "CSV", "--script", "S", *TRUNK, "--retry-on", "busy,bogus"), ("bogus", "busy")),
    # calls
    (("calls", "list", "--db", "D"), ("--db", "is a directory")),
    (("calls", "list", "--db", "DB1"), ("one.db", "not a database")),
    (("calls", "list", "--since", "yesterday"), ("--since", "yesterday")),
    (("calls", "show", "1", "--db", "D"), ("--db", "is a directory")),
    (("calls", "show", "one"), ("ID", "integer")),
    (("calls", "export", "--csv", "--out", "D"), ("--out", "is a directory")),
    (("calls", "export", "--csv", "--db", "D"), ("--db", "is a directory")),
    # lint
    (("lint", "--forbidden", "M"), ("missing.yaml", "no such forbidden-phrase list")),
    (("lint", "--forbidden", "B"), ("bad.yaml", "YAML")),
    (("lint", "M"), ("missing.yaml", "no such script")),
    # prompts, models
    (("prompts", "render", "--cache-dir", "F"), ("--cache-dir", "is a file")),
    (("prompts", "render", "--script", "nosuch"), ("nosuch", "no such script")),
    (("prompts", "render", "--volume", "3"), ("volume", "3")),
    (("models", "fetch", "vosk-model-small-cn-0.22", "--dest", "F"), ("--dest", "is a file")),
    (("models", "fetch", "vosk-model-small-cn-0.22", "--timeout", "0"), ("--timeout", "0")),
    # anything
    (("replay", "W", "--no-such-option"), ("--no-such-option", "ivr replay --help")),
]


@pytest.mark.parametrize(("args", "words"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_wrong_value_is_one_line_and_exit_2(files, args, words, monkeypatch):
    # campaign registers a stack dump on SIGUSR1, which needs a real stderr
    monkeypatch.setattr(faulthandler, "register", lambda *args, **kwargs: None)
    result = CliRunner().invoke(app, [files.get(arg, arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "13812345678" not in result.output  # numbers stay masked


@pytest.mark.parametrize("command", ["detect", "replay"])
def test_a_channel_is_any_case(files, command):
    """`--channel Right` is `right` (replay runs one short call; detect analyses it)."""
    args = [command, files["W"], "--channel", "Right"]
    if command == "replay":
        args += ["--script", files["S"], "--asr", "none", "--no-db"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


def test_every_channel_option_takes_the_same_values():
    from typing import get_args

    from ivr.app.options import CalleeChannel
    from ivr.audio.source import CHANNELS

    assert set(get_args(CalleeChannel)) == set(CHANNELS)

"""Every hint names something that exists for the command that gives it:
`ivr models list` marks the model replay would use for a Mandarin script (or says none is
usable and how to get one), replay's note ends with what to do, and every `--option` a hint
names (with its value, for `--asr VALUE`) is one of that command's options."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer
from typer._click import Context
from typer.testing import CliRunner

from ivr.cli import app

TINY = """\
script: tiny
start: ask
max_call_s: 5
prompts:
  hello: 您好
  bye: 再见
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 3.0}
states:
  ask:
    say: hello
    listen: {}
    on:
      speech: [{do: [{say: bye}, {hangup: answered}]}]
      noinput: [{do: [{say: bye}, {hangup: no_answer}]}]
"""

OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)(?: ([a-z]+)\b)?")
"""An option a hint names, with the word after it (the value, for `--asr reference`)."""


def command_options(*names: str) -> dict[str, str]:
    """Option -> its help text, of the command `ivr NAMES...`."""
    command = typer.main.get_command(app)
    for name in names:
        command = command.get_command(Context(command), name)  # type: ignore[attr-defined]
    return {
        opt: getattr(param, "help", None) or ""
        for param in command.params
        for opt in (*param.opts, *param.secondary_opts)
    }


def check_hint(text: str, *command: str) -> None:
    """Each option `text` names is one of the command's, and so is an --asr value it gives."""
    options = command_options(*command)
    for option, value in OPTION.findall(" ".join(text.split())):
        assert option in options, f"ivr {' '.join(command)} has no {option}: {text}"
        if option == "--asr":
            assert value in options[option], f"ivr {' '.join(command)} --asr {value}: {text}"


@pytest.fixture
def english_model_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """audio_models/ holding one sound English model: found, but no use to a Mandarin script."""
    root = tmp_path / "audio_models"
    model = root / "vosk-model-small-en-us-0.15"
    for rel in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"):
        (model / rel).parent.mkdir(parents=True, exist_ok=True)
        (model / rel).write_bytes(b"x")
    monkeypatch.setenv("IVR_MODELS_DIR", str(root))
    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)
    return model


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture
def ulaw(tmp_path: Path) -> Path:
    """A headerless 8 kHz mu-law file: 2 s of near silence (0xff is mu-law zero)."""
    path = tmp_path / "my_call.ulaw"
    path.write_bytes(np.full(16000, 0xFF, np.uint8).tobytes())
    return path


def test_models_list_and_replay_agree_on_the_model(english_model_only, tiny, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    assert "used by default" not in listed.stdout
    last = " ".join(listed.stdout.split("models on this machine")[-1].split())
    assert "no Mandarin speech model found (vosk-model-small-en-us-0.15" in last
    assert "ivr models fetch vosk-model-small-cn-0.22" in last
    check_hint(last, "models", "list")

    wav = tmp_path / "call.wav"
    sf.write(wav, np.zeros(16000, np.int16), 16000)
    replayed = runner.invoke(
        app, ["replay", str(wav), "--script", str(tiny), "--no-db", "--asr", "vosk"]
    )
    assert replayed.exit_code == 0, replayed.output
    [note] = [line for line in replayed.stdout.splitlines() if line.startswith("note:")]
    assert "no Mandarin speech model found (vosk-model-small-en-us-0.15" in note
    assert "ivr models fetch vosk-model-small-cn-0.22" in note  # the note ends with what to do
    check_hint(note, "replay")


def test_replay_of_headerless_audio_hints_at_its_own_options(ulaw, tiny):
    runner = CliRunner()
    for command in (["replay", "--script", str(tiny), "--no-db", "--asr", "none"], ["detect"]):
        result = runner.invoke(app, [*command, str(ulaw)])
        assert result.exit_code == 1
        [line] = [x for x in result.output.splitlines() if x.startswith("error:")]
        assert "--raw-rate" in line
        check_hint(line, command[0])
    result = runner.invoke(app, [
        "replay", str(ulaw), "--script", str(tiny), "--no-db", "--asr", "none",
        "--raw-rate", "8000", "--raw-encoding", "mulaw",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "my_call.ulaw: no_answer" in result.stdout


def test_dial_note_names_only_dial_options(english_model_only, tiny, tmp_path):
    """Nothing listens on the discard port: the call goes unanswered after 0.5 s."""
    result = CliRunner().invoke(app, [
        "dial", "sip:1000@127.0.0.1:9", "--script", str(tiny), "--no-db",
        "--answer-timeout-s", "0.5", "--record", str(tmp_path / "dial.wav"),
    ])  # fmt: skip
    note = " ".join(result.stdout.split("note:")[1].split("\n\n")[0].split())
    assert "no Mandarin speech model found" in note and "ivr models fetch" in note
    check_hint(note, "dial")

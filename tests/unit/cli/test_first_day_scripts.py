"""The bundled call scripts are the call scripts only: `ivr prompts render`
without --script renders them and not the forbidden-phrase list beside them, and an unknown
script name lists them and suggests the closest."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

import ivr.script.loader as loader
from ivr.cli import app

TINY = """\
script: tiny
start: bye
max_call_s: 10
prompts:
  bye: 您好,再见
states:
  bye:
    say: bye
    do: [{hangup: answered}]
"""


@pytest.fixture
def prompts_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bundled folder with one tiny call script and the real forbidden-phrase list."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY, encoding="utf-8")
    shutil.copy(loader.PROMPTS_DIR / "forbidden.yaml", folder / "forbidden.yaml")
    monkeypatch.setattr(loader, "PROMPTS_DIR", folder)
    return folder


def test_prompts_render_without_script_renders_the_call_scripts_only(prompts_dir, tmp_path):
    result = CliRunner().invoke(app, ["prompts", "render", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "1 prompt: 1 rendered" in result.output
    assert "forbidden" not in result.output


def test_the_bundled_scripts_leave_out_the_forbidden_phrase_list():
    assert "forbidden" not in loader.list_scripts()
    assert {"inbound", "outbound", "outbound_amd"} <= set(loader.list_scripts())


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "x.wav"
    sf.write(path, np.zeros(1600, np.int16), 16000)
    return path


@pytest.mark.parametrize("command", [["prompts", "render"], ["replay"]])
def test_an_unknown_script_suggests_the_closest_and_lists_call_scripts(command, wav):
    if command == ["replay"]:
        command = ["replay", str(wav)]
    result = CliRunner().invoke(app, [*command, "--script", "outbond"])
    assert result.exit_code != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "outbond.yaml: no such script file" in line
    assert "did you mean 'outbound'?" in line
    assert "bundled scripts: inbound, outbound, outbound_amd" in line
    assert "forbidden" not in line


def test_the_forbidden_phrase_list_is_not_taken_for_a_script(wav):
    result = CliRunner().invoke(app, ["replay", str(wav), "--script", "forbidden"])
    assert result.exit_code == 2
    assert "not a call script (the forbidden-phrase list)" in result.stderr
    assert "unknown key" not in result.stderr


def test_lint_of_a_mistyped_name_suggests_the_script():
    result = CliRunner().invoke(app, ["lint", "outbond"])
    assert result.exit_code != 0
    assert "did you mean 'outbound'?" in result.output
    assert "forbidden" not in result.output

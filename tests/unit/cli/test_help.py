"""Help speaks the user's words and fits: no Python type
names (`<list[Path]>`, `<bool>`, `{files}`) in any command's help, each command's summary one
line in an 80-column help, `ivr --version`, `ivr calls export` CSV without `--csv`, and the SPDX
license string setuptools asks for."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import typer
from typer._click.core import Context
from typer.core import TyperGroup
from typer.testing import CliRunner

from ivr.cli import app
from ivr.records.calllog import CallLog, CallRecord

ROOT = Path(__file__).resolve().parents[3]
PYTHON_TYPES = re.compile(r"<(?:str|int|float|bool|path|file|dir|list\[[^>]*\]|[a-z]+ range)>")
BRACED_ARGUMENT = re.compile(r"\{[a-z_]+\}")


def command_paths(command=None, prefix=()) -> list[tuple[str, ...]]:
    """Every command and sub-command of `ivr`, as the words that run it."""
    command = command or typer.main.get_command(app)
    paths = [prefix]
    if isinstance(command, TyperGroup):
        ctx = Context(command)
        for name in command.list_commands(ctx):
            paths += command_paths(command.get_command(ctx, name), (*prefix, name))
    return paths


def help_of(*words: str) -> str:
    result = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("words", command_paths(), ids=lambda words: " ".join(words) or "ivr")
def test_help_shows_no_python_types(words):
    text = help_of(*words)
    assert not PYTHON_TYPES.findall(text), PYTHON_TYPES.findall(text)
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert not BRACED_ARGUMENT.search(usage), usage


@pytest.mark.parametrize("words", [(), ("calls",), ("models",), ("prompts",)], ids=str)
def test_each_command_summary_is_one_line(words):
    text = help_of(*words)
    panel = text[text.index("Commands") :].split("╰")[0].splitlines()[1:]
    names = [line.split()[1] for line in panel if line.startswith("│ ") and line[2] != " "]
    assert len(panel) == len(names), "\n".join(panel)  # no line wrapped onto the next


def test_version_prints_the_installed_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"ivr {metadata.version('ivr')}\n"


LOADED_BY_A_COMMAND = """
import sys
from typer.testing import CliRunner
from ivr.cli import app
result = CliRunner().invoke(app, [*sys.argv[1:], "--help"])
assert result.exit_code == 0, result.output
heavy = ("scipy.signal", "ivr.detect.frontend", "ivr.audit.run", "ivr.cli.replay", "vosk")
print(" ".join(name for name in heavy if name in sys.modules))
"""


@pytest.mark.parametrize("words", [("calls", "list"), ("lint",), ("models", "list")], ids=str)
def test_a_command_that_measures_no_audio_starts_without_the_audio_stack(words):
    # each sub-command's module is imported when it runs: `ivr calls list` starts in about
    # half the time it took with every command and scipy loaded up front
    done = subprocess.run(
        [sys.executable, "-c", LOADED_BY_A_COMMAND, *words], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported at start: {done.stdout}"


def test_a_mistyped_command_names_the_closest_ones():
    result = CliRunner().invoke(app, ["replai", "call.wav"])
    assert result.exit_code == 2
    assert "No such command 'replai'. Did you mean 'replay'?" in result.output


def test_calls_export_is_csv_without_asking(tmp_path):
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        log.add(CallRecord(
            started_at="2026-12-01T10:15:00+08:00", direction="outbound", number="13812345678",
            script="outbound", outcome="answered", duration_s=3.0, source="replay", file="a.wav",
        ))  # fmt: skip
    plain = CliRunner().invoke(app, ["calls", "export", "--db", str(db)])
    named = CliRunner().invoke(app, ["calls", "export", "--csv", "--db", str(db)])
    assert plain.exit_code == 0 and named.exit_code == 0, plain.output + named.output
    assert plain.stdout == named.stdout and plain.stdout.startswith("\ufeffid,")
    assert "138****5678" in plain.stdout and "13812345678" not in plain.stdout


def test_the_license_is_an_spdx_string_setuptools_understands():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == "setuptools>=77"  # the first to read `license = "<SPDX>"`


@pytest.mark.parametrize("command", ["call", "dial", "serve"])
def test_the_line_commands_group_their_shared_options_alike(command):
    """call, dial and serve declare their shared options once (ivr.app.options): the same
    groups in their help, each with the same options."""
    shown = help_of(command)
    panels = {
        "Script and values": ("--script", "--org", "--agent-id", "--config", "--set"),
        "Recognition": ("--asr", "--model"),
        "Keeping the call": ("--db", "--no-db", "--report", "--answer-within-ms"),
    }
    for panel, options in panels.items():
        assert f"─ {panel} " in shown, (command, panel)
        body = shown.split(f"─ {panel} ", 1)[1].split("╰", 1)[0]
        for option in options:
            assert option in body, (command, panel, option)


MEASURING_AUDIO = """
import sys
import numpy as np
import soundfile as sf
from typer.testing import CliRunner
from ivr.cli import app
path, command = sys.argv[1], sys.argv[2:]
rng = np.random.default_rng(4)
sf.write(path, (rng.standard_normal((16000 * 3, 2)) * 0.05), 16000, subtype="PCM_16")
result = CliRunner().invoke(app, [*command, path])
assert result.exit_code in (0, 1), result.output
print(" ".join(sorted(m for m in sys.modules if m.startswith(("scipy.signal", "scipy.stats")))))
"""


@pytest.mark.parametrize(
    ("words", "kernels"),
    [
        (("detect",), set()),
        (("audit", "--script", "outbound"), {"_sosfilt"}),  # the speaking rate's band-pass
    ],
    ids=str,
)
def test_measuring_a_recording_does_not_import_scipy_signal(tmp_path, words, kernels):
    # scipy.signal (0.6-0.9 s to import) was most of these commands' start-up: the front end's
    # filters are compiled with ivr (ivr/detect/_kernels.c), the audit's own use scipy's
    # compiled kernels alone (ivr.detect.sections)
    wav = str(tmp_path / "call.wav")
    done = subprocess.run(
        [sys.executable, "-c", MEASURING_AUDIO, wav, *words], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert loaded == {f"scipy.signal.{kernel}" for kernel in kernels}, loaded

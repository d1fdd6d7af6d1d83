"""Helpers shared by the CLI commands: one-line errors and settings from files and flags."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ivr.detect.settings import DetectorSettings
from ivr.errors import IvrError
from ivr.yamlfile import read_yaml

PLAIN_WIDTH = 120
"""Width (characters) of tables printed to a pipe or file, where rich would assume 80."""


# Options `ivr replay` and `ivr call` share: the call log, the report, the QA time limit.
DbOption = Annotated[
    Path | None, typer.Option(help="Call log (SQLite); default $IVR_CALL_DB or calls/calls.db.")
]
NoDbOption = Annotated[bool, typer.Option("--no-db", help="Do not log the calls.")]
CalleeOption = Annotated[str | None, typer.Option(help="The callee's name, for the call log.")]
ReportOption = Annotated[
    Path | None, typer.Option(help="Write an HTML report into this folder (index.html).")
]
AnswerWithinOption = Annotated[
    int | None,
    typer.Option(help="QA: longest answer to the callee's speech (ms); default: the script's."),
]


def make_console(stderr: bool = False) -> Console:
    """A rich console; on a pipe or file, wide enough that tables are not truncated."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=max(console.width, PLAIN_WIDTH))
    return console


def fail_line(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr (one line, no traceback) and exit with `code`."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


def load_config(path: Path) -> dict:
    """A YAML config file as a mapping; IvrError naming the file on any problem."""
    data = read_yaml(path, "config file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IvrError(f"{path}: a config file must be a mapping, got {type(data).__name__}")
    return data


def parse_assignment(text: str) -> tuple[str, str]:
    """`name=value` to (name, value); ValueError if there is no `=`."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def detector_settings(config: Path | None, overrides: list[str]) -> DetectorSettings:
    """Detector settings: defaults, then a config file's `detect:` section, then --set flags."""
    settings = DetectorSettings()
    if config is not None:
        section = load_config(config).get("detect") or {}
        if not isinstance(section, dict):
            raise IvrError(f"{config}: `detect:` must be a mapping of settings")
        try:
            settings = DetectorSettings.from_mapping(section)
        except ValueError as exc:
            raise IvrError(f"{config}: {exc}") from None
    if overrides:
        settings = settings.with_overrides(dict(parse_assignment(o) for o in overrides))
    return settings


def apply_script_config(script, config: Path | None):
    """The script with a config file's `script:` timings (noinput, end_of_speech, max_speech)."""
    if config is None:
        return script
    from ivr.script.overrides import with_timings

    section = load_config(config).get("script") or {}
    if not isinstance(section, dict):
        raise IvrError(f"{config}: `script:` must be a mapping of timings")
    try:
        return with_timings(script, section)
    except ValueError as exc:
        raise IvrError(f"{config}: script: {exc}") from None

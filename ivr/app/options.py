"""Options several call commands declare alike (typer `Annotated` types, help texts included).

A wrong value is refused while the command line is parsed, before any file is read or device
opened, in one line (`error: --report: dir 'x.html' is a file`, exit 2: ivr.cli.group): a
folder to write into may not be a file (`OUT_DIR`), a file to read must exist and be a file
(`IN_FILE`), a file to write may not be a folder (`OUT_FILE`), a choice is one of its values,
in any case (`CalleeChannel`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from ivr.audio.source import RAW_ENCODINGS

OUT_DIR: dict[str, Any] = {"file_okay": False}
"""Path checks of a folder written into (created when missing)."""
IN_FILE: dict[str, Any] = {"exists": True, "dir_okay": False}
"""Path checks of a file read."""
OUT_FILE: dict[str, Any] = {"dir_okay": False}
"""Path checks of a file written (or a database opened for writing)."""

CalleeChannel = Literal["left", "right", "mix"]
"""The side of a stereo recording that is the callee (ivr.audio.source.CHANNELS)."""


def channel_option(help: str) -> Any:
    """The --channel option of a command reading recordings: one of CalleeChannel, any case."""
    return typer.Option(help=help, case_sensitive=False, show_default=False)


SCRIPT_PANEL = "Script and values"
"""The help panel of the options that choose the script and fill its placeholders."""
KEEP_PANEL = "Keeping the call"
"""The help panel of the options that say what is kept of a call (log, report, QA)."""
RECOGNITION_PANEL = "Recognition"
"""The help panel of the speech recognition options."""
RAW_PANEL = "Headerless raw audio"
"""The help panel of the options that say how to read headerless audio."""

ScriptOption = Annotated[
    str, typer.Option(help="Script name (prompts/NAME.yaml) or path.", rich_help_panel=SCRIPT_PANEL)
]
"""--script of `ivr replay` and `ivr call`."""
OrgOption = Annotated[
    str | None, typer.Option(help="Value of {org}.", rich_help_panel=SCRIPT_PANEL)
]
AgentIdOption = Annotated[
    str | None, typer.Option(help="Value of {agent_id}.", rich_help_panel=SCRIPT_PANEL)
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Detector setting, e.g. vad.hangover_ms=400.", rich_help_panel=SCRIPT_PANEL
    ),
]
"""--set NAME=VALUE (repeatable): a detector setting over the defaults and --config."""
PromptCacheOption = Annotated[
    Path | None,
    typer.Option(help="Prompt audio cache folder.", **OUT_DIR, rich_help_panel=SCRIPT_PANEL),
]
"""Where rendered prompts are kept (default: ivr.tts.prompt_cache's)."""

# How `ivr detect` and `ivr replay` read headerless raw audio (ivr.audio.source.RawFormat).
RawRateOption = Annotated[
    int | None,
    typer.Option(help="Headerless raw audio: sample rate (Hz).", rich_help_panel=RAW_PANEL),
]
RawEncodingOption = Annotated[
    str,
    typer.Option(
        help=f"Headerless raw audio: {', '.join(RAW_ENCODINGS)}.", rich_help_panel=RAW_PANEL
    ),
]
RawChannelsOption = Annotated[
    int, typer.Option(help="Headerless raw audio: channels.", rich_help_panel=RAW_PANEL)
]

# What `ivr replay` and `ivr call` keep of a call: the call log, the report, the QA time limit.
DbOption = Annotated[
    Path | None,
    typer.Option(
        help="Call log (SQLite); default $IVR_CALL_DB or calls/calls.db.",
        **OUT_FILE,
        rich_help_panel=KEEP_PANEL,
    ),
]
NoDbOption = Annotated[
    bool, typer.Option("--no-db", help="Do not log the calls.", rich_help_panel=KEEP_PANEL)
]
CalleeOption = Annotated[
    str | None,
    typer.Option(help="The callee's name, for the call log.", rich_help_panel=KEEP_PANEL),
]
ReportOption = Annotated[
    Path | None,
    typer.Option(
        help="Write an HTML report into this folder (index.html).",
        **OUT_DIR,
        rich_help_panel=KEEP_PANEL,
    ),
]
AnswerWithinOption = Annotated[
    int | None,
    typer.Option(
        help="QA: longest answer to the callee's speech (ms); default: the script's.",
        rich_help_panel=KEEP_PANEL,
    ),
]

# What a call on a line (`ivr call`, `ivr dial`) declares alike.
LineConfigOption = Annotated[
    Path | None,
    typer.Option(
        help="YAML with `values:` and `detect:` (e.g. from ivr tune).",
        **IN_FILE,
        rich_help_panel=SCRIPT_PANEL,
    ),
]
LineAsrOption = Annotated[
    str,
    typer.Option(help="Recognition: vosk (default) or none.", rich_help_panel=RECOGNITION_PANEL),
]
ModelOption = Annotated[
    str | None, typer.Option(help="Vosk model folder or name.", rich_help_panel=RECOGNITION_PANEL)
]
LineShowNumbersOption = Annotated[
    bool,
    typer.Option(
        help="Phone numbers unmasked in the output, call log and timeline.",
        rich_help_panel=KEEP_PANEL,
    ),
]

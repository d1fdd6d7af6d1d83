"""Options several call commands declare alike (typer `Annotated` types, help texts included)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ScriptOption = Annotated[str, typer.Option(help="Script name (prompts/NAME.yaml) or path.")]
"""--script of `ivr replay` and `ivr call`."""
OrgOption = Annotated[str | None, typer.Option(help="Value of {org}.")]
AgentIdOption = Annotated[str | None, typer.Option(help="Value of {agent_id}.")]
SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="Detector setting, e.g. vad.hangover_ms=400.")
]
"""--set NAME=VALUE (repeatable): a detector setting over the defaults and --config."""
PromptCacheOption = Annotated[Path | None, typer.Option(help="Prompt audio cache folder.")]
"""Where rendered prompts are kept (default: ivr.tts.prompt_cache's)."""

# What `ivr replay` and `ivr call` keep of a call: the call log, the report, the QA time limit.
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

# What a call on a line (`ivr call`, `ivr dial`) declares alike.
LineConfigOption = Annotated[
    Path | None, typer.Option(help="YAML with `values:` and `detect:` (e.g. from ivr tune).")
]
LineAsrOption = Annotated[str, typer.Option(help="Recognition: vosk (default) or none.")]
ModelOption = Annotated[str | None, typer.Option(help="Vosk model folder or name.")]
LineShowNumbersOption = Annotated[
    bool, typer.Option(help="Phone numbers unmasked in the output, call log and timeline.")
]

"""The `ivr` command line: one sub-command module per use, registered on one typer app."""

from __future__ import annotations

import typer

from ivr.cli import (
    call,
    calls,
    campaign,
    detect,
    dial,
    lint,
    models,
    prompts,
    replay,
    serve,
    synth,
    tune,
)

app = typer.Typer(
    name="ivr",
    help="Offline voice IVR: replay recorded calls against call scripts, run live demo calls "
    "and SIP calls, "
    "keep and report call records, lint scripts against the service standard, tune detectors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
detect.register(app)
synth.register(app)
replay.register(app)
prompts.register(app)
models.register(app)
call.register(app)
dial.register(app)
serve.register(app)
campaign.register(app)
tune.register(app)
lint.register(app)
calls.register(app)


def main() -> None:
    """Console-script entry point."""
    app()

"""The `ivr` command line: one sub-command module per use, registered on one typer app."""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from ivr.cli import (
    audit,
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
from ivr.cli.group import IvrGroup

app = typer.Typer(
    name="ivr",
    help="Offline voice IVR: replay recorded calls against call scripts, run live demo calls "
    "and SIP calls, "
    "keep and report call records, lint scripts against the service standard, tune detectors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=IvrGroup,
)


def _print_version(asked: bool) -> None:
    if asked:
        try:
            version = metadata.version("ivr")
        except metadata.PackageNotFoundError:
            version = "unknown (not installed: pip install -e .)"
        typer.echo(f"ivr {version}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print ivr's version."
        ),
    ] = False,
) -> None:
    """Options before the command."""


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
audit.register(app)


def main() -> None:
    """Console-script entry point."""
    app()

"""`ivr audit`: score recorded calls of human agents against the service standard."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from ivr.app.config import call_settings, parse_assignment
from ivr.app.options import IN_FILE
from ivr.audit import ITEMS, AuditSettings, Outcome, Verdict
from ivr.cli.common import fail_line, make_console
from ivr.cli.tables import CliTable, print_table
from ivr.errors import IvrError

AgentSide = Literal["left", "right"]

_CELL = {Verdict.PASS: "pass", Verdict.FAIL: "[red]FAIL[/red]", Verdict.NA: "n/a"}


def _split_overrides(overrides: list[str]) -> tuple[dict[str, str], list[str]]:
    """--set values: the audit's own (plain names) and the detectors' (dotted names)."""
    audit: dict[str, str] = {}
    detect: list[str] = []
    for text in overrides:
        name, value = parse_assignment(text)
        if "." in name:
            detect.append(text)
        else:
            audit[name] = value
    return audit, detect


def _batch_table(outcomes: list[Outcome]) -> CliTable:
    """A row per call: its verdict and each item measured from audio."""
    measured = [i for i in ITEMS if not i.needs_words]
    table = CliTable("Audit")
    table.column("file", keep=True)
    table.column("verdict", keep=True)
    for item in measured:
        table.column(f"{item.number} {item.key}")
    for o in outcomes:
        if o.scorecard is None:
            table.add_row(escape(o.name), "[red]error[/red]", *[""] * len(measured))
            continue
        cells = []
        for item in measured:
            r = o.scorecard.result(item.key)
            count = f" x{len(r.moments)}" if r.verdict is Verdict.FAIL else ""
            cells.append(_CELL[r.verdict] + count)
        verdict = "[red]FAIL[/red]" if o.scorecard.failed else "pass"
        table.add_row(escape(o.name), verdict, *cells)
    return table


def _settings_table(settings: AuditSettings) -> CliTable:
    """The standard's numbers scored by, with their units and seed lines."""
    table = CliTable("Settings (change with --config audit: or --set NAME=VALUE)")
    table.column("setting", keep=True)
    table.column("value", justify="right")
    table.column("unit")
    table.column("seed")
    for row in settings.described():
        value = f"{row['value']:g}"
        if row["value"] != row["default"]:
            value += f" (default {row['default']:g})"
        table.add_row(row["name"], value, row["unit"], escape(row["seed"]))
    return table


def _print_batch(
    console: Console, outcomes: list[Outcome], settings: AuditSettings, as_json: bool
) -> None:
    """After the calls: their JSON scorecards, or the batch's table and the settings'."""
    if as_json:
        cards = [
            o.scorecard.to_dict() if o.scorecard else {"file": o.name, "error": o.error}
            for o in outcomes
        ]
        sys.stdout.write(json.dumps(cards, ensure_ascii=False, indent=2) + "\n")
        return
    console.print()
    print_table(console, _batch_table(outcomes))
    console.print()
    print_table(console, _settings_table(settings))


def audit_command(
    recordings: Annotated[
        list[str],
        typer.Argument(
            help="Recordings: stereo files (agent on one side), or agent.wav+customer.wav "
            "for a pair of mono files.",
            metavar="RECORDINGS",
            show_default=False,
        ),
    ],
    agent: Annotated[
        AgentSide,
        typer.Option(
            help="Stereo files: the agent's side; the customer is on the other.",
            case_sensitive=False,
        ),
    ] = "left",
    script: Annotated[
        str,
        typer.Option(help="Script whose silent-line rules apply: inbound, outbound or a path."),
    ] = "inbound",
    config: Annotated[
        Path | None,
        typer.Option(help="YAML with `audit:` (the standard's numbers) and `detect:`.", **IN_FILE),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A setting, e.g. dead_air_s=4 (the standard's) or vad.hangover_ms=400 "
            "(a detector's).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON scorecards.")] = False,
) -> None:
    """Score recorded calls of human agents against the service standard: the items measured
    from the audio of both sides, each pass, fail (with the moments, s into the call) or n/a.
    Exit 1 when a recording cannot be read (the others are still scored)."""
    from ivr.audit import audit_batch, load_audit_settings, recording, silent_line_rules

    try:
        audit_overrides, detect_overrides = _split_overrides(overrides or [])
        settings = load_audit_settings(config, audit_overrides)
        detect = call_settings(config, detect_overrides)
        rules = silent_line_rules(script, settings)
        specs = [recording(r, agent) for r in recordings]
    except (ValueError, IvrError) as exc:
        fail_line(str(exc))
    console = make_console()
    outcomes: list[Outcome] = []
    for outcome in audit_batch(specs, settings, rules, detect):
        outcomes.append(outcome)
        if outcome.error is not None:
            sys.stderr.write(f"error: {outcome.error}\n")
        elif not as_json and outcome.scorecard is not None:
            console.print(outcome.scorecard.line(), markup=False, highlight=False)
    _print_batch(console, outcomes, settings, as_json)
    if any(o.error is not None for o in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `audit` to the CLI."""
    app.command("audit", short_help="Score recorded calls against the service standard.")(
        audit_command
    )

"""`ivr lint`: check call scripts against the service standard (forbidden phrases, 您, greeting,
closing, the no-input wait), one line per problem."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from ivr.cli.common import fail_line
from ivr.errors import IvrError


def lint_command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Script files, folders (their *.yaml scripts) or bundled script names. "
            "Default: every script in prompts/.",
            show_default=False,
        ),
    ] = None,
    forbidden: Annotated[
        Path | None,
        typer.Option(
            "--forbidden",
            help="List of forbidden phrases (default: prompts/forbidden.yaml).",
        ),
    ] = None,
) -> None:
    """Print `file:line: rule: message` for every problem, then a summary; exit 1 on any
    problem. Rules: forbidden-phrase, informal-you, greeting, closing, noinput-wait (and the
    loader's own rules for a script it rejects)."""
    from ivr.qa.lint import lint_script, script_files
    from ivr.qa.phrases import load_forbidden
    from ivr.script.loader import PROMPTS_DIR, bundled_hint

    try:
        phrases = load_forbidden(forbidden)
    except IvrError as exc:
        fail_line(str(exc))
    given = list(paths or []) or [_shown(PROMPTS_DIR)]
    files = script_files(given)
    if not files:
        fail_line(f"no call scripts in {', '.join(given)}", code=1)
    for item in given:
        if not Path(item).exists() and not script_files([item])[0].exists():
            fail_line(
                f"{item}: no such script file, folder or bundled script name" + bundled_hint(item)
            )
    problems = []
    for path in files:
        problems.extend(lint_script(path, phrases))
    for problem in problems:
        sys.stdout.write(f"{problem}\n")
    scripts = f"{len(files)} script{'s' if len(files) != 1 else ''} checked"
    if not problems:
        sys.stdout.write(f"{scripts}: no problems\n")
        return
    by_rule = Counter(problem.rule for problem in problems)
    failing = len({problem.file for problem in problems})
    rules = ", ".join(f"{rule} {count}" for rule, count in sorted(by_rule.items()))
    sys.stdout.write(
        f"{scripts}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in {failing} "
        f"script{'s' if failing != 1 else ''} ({rules})\n"
    )
    raise typer.Exit(1)


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.fspath(path)


def register(app: typer.Typer) -> None:
    """Add `lint` to the CLI."""
    app.command("lint", short_help="Check call scripts against the service standard.")(lint_command)

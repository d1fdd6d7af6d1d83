"""`ivr models`: which Vosk speech models there are, fetching one, checking a model folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ivr.app.options import OUT_DIR
from ivr.asr.fetch import DOWNLOAD_TIMEOUT_S, check_model_name, fetch_model
from ivr.asr.model_check import check_model, describe_model
from ivr.asr.model_load import load_model
from ivr.asr.models import (
    DEFAULT_MODEL,
    KNOWN_MODELS,
    MODEL_BASE_URL,
    MODEL_ENV,
    ModelLocation,
    local_models,
    locate,
    models_dir,
)
from ivr.cli.common import fail_line, make_console
from ivr.cli.tables import print_table
from ivr.errors import IvrError, ModelNotFoundError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ivr.app.recognition import ModelChoice


def _status(problems: list[str]) -> str:
    return "ok" if not problems else "; ".join(problems)


def list_command() -> None:
    """Show the official models and every model on this machine; mark the one calls use (with
    no --model) for ivr's Mandarin scripts."""
    from ivr.app.recognition import ModelChoice, choose_model

    console = make_console()
    root = models_dir()
    chosen_error: str | None = None
    try:
        choice = choose_model(None)
    except ModelNotFoundError as exc:
        choice, chosen_error = ModelChoice(None), str(exc)
    chosen = choice.used
    print_table(console, _official_table(root), keep=("name",))
    print_table(console, _local_table(root, chosen), keep=("name", "status"))
    _print_default(console, choice, chosen_error)


def _official_table(root: Path) -> Table:
    """The official models, with whether each is installed in `root` (and sound)."""
    from rich.table import Table
    from rich.text import Text

    official = Table(title=f"official Vosk models ({MODEL_BASE_URL})", title_justify="left")
    official.add_column("name")
    official.add_column("language")
    official.add_column("size MB", justify="right")
    official.add_column(f"in {root}")
    official.add_column("note")
    for known in KNOWN_MODELS:
        folder = root / known.name
        if folder.exists():
            problems = check_model(folder)
            installed = Text("yes" if not problems else f"broken: {_status(problems)}")
        else:
            installed = Text("no")
        official.add_row(
            Text(known.name), known.language, str(known.size_mb), installed, Text(known.note)
        )
    return official


def _local_table(root: Path, chosen: ModelLocation | None) -> Table:
    """The models on this machine ($IVR_VOSK_MODEL first, then those in `root`); `chosen` marked."""
    from rich.table import Table
    from rich.text import Text

    found: list[ModelLocation] = []
    env_spec = os.environ.get(MODEL_ENV)
    if env_spec:
        found.append(locate(env_spec, MODEL_ENV))
    found.extend(local_models())
    local = Table(title="models on this machine", title_justify="left")
    local.add_column("use")
    local.add_column("name")
    local.add_column("language")
    local.add_column("source")
    local.add_column("status")
    local.add_column("path", overflow="fold")
    for location in found:
        used = chosen is not None and location.path == chosen.path
        local.add_row(
            "*" if used else "",
            Text(location.name),
            location.language or "?",
            Text(location.source),
            Text(_status(check_model(location.path))),
            Text(str(location.path)),
        )
    if not found:
        local.add_row("", "none", "", "", "", Text(f"nothing in {root}"))
    return local


def _print_default(console: Console, choice: ModelChoice, chosen_error: str | None) -> None:
    """Which model recognition uses by default (as replay, call and dial choose it), why none
    is usable, and how to get one."""
    from rich.text import Text

    from ivr.app.recognition import model_advice, no_model_found

    chosen = choice.used
    if chosen_error is not None:
        console.print(Text(f"not usable: {chosen_error}"), soft_wrap=True)
    elif chosen is not None:
        console.print(
            Text(f"* used by default: {chosen.name} ({chosen.source}) {chosen.path}"),
            soft_wrap=True,
        )
    else:
        console.print(
            Text(
                f"{no_model_found(choice.passed_over)}: recognition stays off (detector-only); "
                f"{model_advice(can_model=False)}"
            ),
            soft_wrap=True,
        )


def fetch_command(
    name: Annotated[str, typer.Argument(help=f"Official model name, e.g. {DEFAULT_MODEL}.")],
    dest: Annotated[
        Path | None,
        typer.Option("--dest", help="Folder to install into (default: audio_models/).", **OUT_DIR),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Network timeout in seconds.", min=0.1)
    ] = DOWNLOAD_TIMEOUT_S,
) -> None:
    """Download an official Vosk model, check it and unpack it into audio_models/<NAME>/."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.text import Text

    try:
        check_model_name(name)
    except IvrError as exc:
        fail_line(str(exc))
    console = make_console()
    target = (dest if dest is not None else models_dir()) / name
    if target.is_dir() and not check_model(target):
        console.print(
            Text(f"already installed: {target} ({describe_model(target)})"), soft_wrap=True
        )
        return
    if name not in {known.name for known in KNOWN_MODELS}:
        console.print(
            Text(f"{name} is not in the known list (`ivr models list`); trying anyway"),
            soft_wrap=True,
        )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=make_console(stderr=True),
    )
    task = progress.add_task(name, total=None)

    def on_progress(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    try:
        with progress:
            path = fetch_model(name, dest, on_progress, timeout_s=timeout)
    except IvrError as exc:
        fail_line(str(exc), code=1)
    console.print(Text(f"installed: {path} ({describe_model(path)})"), soft_wrap=True)


def check_command(
    path: Annotated[str, typer.Argument(help="Model folder, or a folder name in audio_models/.")],
    load: Annotated[
        bool, typer.Option("--load", help="Also load it with Vosk (takes seconds).")
    ] = False,
) -> None:
    """Check that a folder holds a complete Vosk model; exit 1 when it does not."""
    from rich.text import Text

    location = locate(path, "argument")
    problems = check_model(location.path)
    if problems == ["no such folder"] and os.sep not in path and "/" not in path:
        fail_line(f"{path}: no such folder, and no {models_dir() / path}", code=1)
    if problems:
        for problem in problems:
            sys.stderr.write(f"error: {location.path}: {problem}\n")
        raise SystemExit(1)
    if load:
        try:
            load_model(location.path)
        except ModelNotFoundError as exc:
            fail_line(str(exc), code=1)
    make_console().print(
        Text(f"ok: {location.path} ({describe_model(location.path)})"), soft_wrap=True
    )


def register(app: typer.Typer) -> None:
    """Add `models` (with `models list`, `models fetch`, `models check`) to the CLI."""
    models_app = typer.Typer(
        name="models",
        help="Vosk speech models: list them, fetch an official one, check a model folder.",
        no_args_is_help=True,
    )
    models_app.command("list", short_help="Official models and the ones here.")(list_command)
    models_app.command("fetch", short_help="Download and unpack an official model.")(fetch_command)
    models_app.command("check", short_help="Check a model folder.")(check_command)
    app.add_typer(models_app, name="models", short_help="Vosk speech models: list, fetch, check.")

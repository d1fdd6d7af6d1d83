"""The root command group of `ivr`: one-line usage errors and help that speaks the user's words.

A wrong option value, a missing argument or an unknown option prints one line on stderr,
`error: --channel: 'center' is not one of 'left', 'right', 'mix' (ivr replay --help)`, and
exits 2, like the commands' own checks (`ivr.cli.common.fail_line`); typer would draw a box.
Help shows what a value is (FILE, DIR, N, SECONDS, the choices) where typer shows Python types
(`<list[Path]>`, `<bool>`, `{files}`): each parameter gets a metavar here, from `METAVARS` by
option name, else from its type; flags get none.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any, get_args

import typer
from typer._click import Context, Parameter  # typer vendors click; its errors are these
from typer._click.exceptions import BadParameter, ClickException, MissingParameter, UsageError
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.exceptions import Abort

METAVARS = {
    "--out": "DIR",
    "--report": "DIR",
    "--cache-dir": "DIR",
    "--prompt-cache": "DIR",
    "--dest": "DIR",
    "--expect": "FILE",
    "--config": "FILE",
    "--db": "FILE",
    "--record": "FILE",
    "--dnc": "FILE",
    "--manifest": "FILE",
    "--forbidden": "FILE",
    "--script": "NAME|FILE",
    "--set": "NAME=VALUE",
    "--grid": "NAME=FROM:TO:STEP",
    "--listen": "HOST:PORT",
    "--trunk": "URI",
    "--proxy": "URI",
    "--model": "FOLDER|NAME",
    "--asr": "MODE",
    "--since": "WHEN",
    "--hours": "HH:MM-HH:MM",
    "--days": "DAYS",
    "--shard": "K/N",
    "--retry-on": "OUTCOMES",
    "--outcome": "OUTCOME",
    "--input-device": "DEVICE",
    "--output-device": "DEVICE",
    "--answer-within-ms": "MS",
    "--raw-rate": "HZ",
    "--raw-encoding": "ENCODING",
    "--rate": "WPM",
    "--volume": "0..1",
    "--voice": "VOICE",
    "--name": "NAME",
    "--number": "NUMBER",
    "paths": "FILE|DIR",
    "files": "FILE",
    "corpus": "DIR",
    "call_list": "FILE",
    "call_id": "ID",
    "uri": "URI",
    "name": "NAME",
    "path": "FOLDER|NAME",
}
"""Help labels by option (its long name) or argument (its parameter name); an option's own
metavar, and a choice's list of values, come first."""

COMMAND_METAVARS = {("export", "--out"): "FILE"}
"""Labels that differ by command: (command name, option) -> label."""


class IvrGroup(TyperGroup):
    """The `ivr` group: every sub-command's parameters labelled, usage errors in one line.

    `command_modules` names sub-commands loaded at first use: NAME's module ivr.cli.NAME
    adds it with `register(app)`."""

    command_modules: tuple[str, ...] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        label_parameters(self)

    def list_commands(self, ctx: Context) -> list[str]:
        """The sub-commands' names: those loaded at first use in their order, then any other."""
        return [*self.command_modules, *(n for n in self.commands if n not in self.command_modules)]

    def get_command(self, ctx: Context, cmd_name: str) -> Any:
        """The sub-command `cmd_name`, its module imported the first time; None if unknown."""
        if cmd_name not in self.commands and cmd_name in self.command_modules:
            holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            importlib.import_module(f"ivr.cli.{cmd_name}").register(holder)
            command = typer.main.get_group(holder).commands[cmd_name]
            label_parameters(command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Context, args: list[str]) -> Any:
        """The sub-command `args` start with; an unknown one is a usage error that names the
        closest commands, the ones not loaded yet included."""
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            close = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close and "Did you mean" not in exc.message:
                named = ", ".join(repr(name) for name in close)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {named}?"
            raise

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        """Run the command line; a usage error prints one line and exits 2 (click's code)."""
        if extra.get("standalone_mode", True) is False:
            return super().main(args, *rest, **extra)
        try:
            status = super().main(args, *rest, **{**extra, "standalone_mode": False})
        except ClickException as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # its help is printed already
                sys.stderr.write(f"error: {one_line(exc)}\n")
            sys.exit(exc.exit_code)
        except Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)


def one_line(exc: ClickException) -> str:
    """The error as `what: problem (command --help)`: an option's or argument's label first."""
    message = exc.format_message()
    if isinstance(exc, BadParameter) and not isinstance(exc, MissingParameter):
        hint = exc.param_hint
        if hint is None and exc.param is not None:
            param = exc.param
            hint = param.opts[0] if isinstance(param, TyperOption) else param.display_name_raw
        if isinstance(hint, Sequence) and not isinstance(hint, str):
            hint = " / ".join(hint)
        if hint:
            problem = exc.message.removeprefix("Value error, ")  # pydantic's words
            message = f"{str(hint).strip(chr(39))}: {problem}"
    ctx = getattr(exc, "ctx", None)
    where = f" ({ctx.command_path} --help)" if ctx is not None else ""
    return " ".join(message.split()) + where


def label_parameters(command: Any) -> None:
    """Give every parameter of `command` and its sub-commands a help label (metavar)."""
    for sub in getattr(command, "commands", {}).values():
        label_parameters(sub)
    help_option = command.get_help_option(Context(command))  # made once, kept by the command
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if isinstance(param, TyperArgument):
            param.__class__ = _LabelledArgument
        if param.metavar is None:
            param.metavar = label(command.name or "", param)


def label(command: str, param: Parameter) -> str:
    """The help label of `param` of `command` (see METAVARS); "" for a flag."""
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return ""
    name = next((o for o in param.opts if o.startswith("--")), param.name or "")
    if (command, name) in COMMAND_METAVARS:
        return COMMAND_METAVARS[command, name]
    kind = param.type_descriptor  # type: ignore[attr-defined]
    if kind.choices is not None:
        return "|".join(str(getattr(c, "value", c)) for c in kind.choices)
    if name in METAVARS:
        return METAVARS[name]
    if kind.is_path:
        return {"dir": "DIR", "file": "FILE"}.get(kind.path_type, "PATH")
    base = get_args(kind.annotation)[0] if kind.is_list else kind.annotation
    if base is int:
        return "N"
    if base is float:
        return "SECONDS" if name.endswith("-s") or name == "--timeout" else "NUMBER"
    return "TEXT"


class _LabelledArgument(TyperArgument):
    """An argument shown by its label alone: `FILE...`, not `{files}...` and `<list[Path]>`."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


__all__ = ["COMMAND_METAVARS", "METAVARS", "IvrGroup", "label", "label_parameters", "one_line"]

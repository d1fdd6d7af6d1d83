"""`ivr prompts`: render call scripts' prompts into the prompt cache ahead of any call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ivr.app.options import OUT_DIR
from ivr.cli.common import fail_line, make_console
from ivr.cli.tables import print_table
from ivr.errors import IvrError

if TYPE_CHECKING:
    from rich.table import Table

    from ivr.script.model import Script
    from ivr.tts.prompt_cache import PromptCache, VoiceSettings


def render_command(
    scripts: Annotated[
        list[str] | None,
        typer.Option(
            "--script",
            help="Script name (e.g. outbound) or YAML path; repeat for several. "
            "Default: every script in prompts/.",
        ),
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Fills {org}.")] = None,
    agent_id: Annotated[str | None, typer.Option("--agent-id", help="Fills {agent_id}.")] = None,
    number: Annotated[str | None, typer.Option("--number", help="Fills {number}.")] = None,
    voice: Annotated[str, typer.Option("--voice", help="espeak-ng voice.")] = "cmn-latn-pinyin",
    rate: Annotated[int, typer.Option("--rate", help="Speaking rate (words per minute).")] = 175,
    volume: Annotated[float, typer.Option("--volume", help="Volume, 0.0 to 1.0.")] = 1.0,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Prompt cache directory (default: $IVR_CACHE_DIR/prompts).",
            **OUT_DIR,
        ),
    ] = None,
) -> None:
    """Render every prompt of the scripts into the cache; show each one's duration."""
    from ivr.tts.prompt_cache import PromptCache, VoiceSettings

    try:
        settings = VoiceSettings(voice=voice, rate=rate, volume=volume)
    except ValueError as exc:
        fail_line(str(exc))
    values = {
        name: value
        for name, value in (("org", org), ("agent_id", agent_id), ("number", number))
        if value is not None
    }
    loaded = _load_scripts(scripts, values)
    cache = PromptCache(cache_dir, settings)
    table, rendered = _render_prompts(loaded, cache, settings)
    console = make_console()
    print_table(console, table, keep=("script", "prompt"))
    total = sum(len(script.prompts) for script in loaded)
    console.print(
        f"{total} prompt{'' if total == 1 else 's'}: {rendered} rendered, "
        f"{total - rendered} already cached in {cache.directory}",
        markup=False,
        highlight=False,
    )


def _load_scripts(scripts: list[str] | None, values: dict[str, str]) -> list[Script]:
    """The scripts named (default: every script in prompts/) with their placeholder values;
    exits with an error line when there is none or one cannot be read."""
    from ivr.script.loader import PROMPTS_DIR, list_scripts, load_script

    try:
        names = list(scripts) if scripts else list_scripts()
        if not names:
            fail_line(f"no call scripts in {PROMPTS_DIR}; name one with --script", code=1)
        return [load_script(name, values) for name in names]
    except IvrError as exc:
        fail_line(str(exc))  # a --script that is not one, as for replay: exit 2
    except OSError as exc:
        fail_line(f"{exc.filename or 'script'}: {exc.strerror or exc}", code=1)


def _render_prompts(
    loaded: list[Script], cache: PromptCache, settings: VoiceSettings
) -> tuple[Table, int]:
    """Render (or find in `cache`, made with `settings`) every prompt of the scripts: the
    table of them and how many were rendered now; exits with an error line when one cannot be."""
    from rich.table import Table
    from rich.text import Text

    from ivr.privacy import mask_number

    table = Table(title=f"prompts: {settings.voice}, {settings.rate} wpm, volume {settings.volume}")
    table.add_column("script")
    table.add_column("prompt")
    table.add_column("duration s", justify="right")
    table.add_column("frames", justify="right")
    table.add_column("status")
    table.add_column("text")
    rendered = 0
    for script in loaded:
        for prompt_id, text in script.prompts.items():
            if not text.strip():
                fail_line(f"{script.path}: prompt {prompt_id!r} has no text", code=1)
            try:
                audio, cached = cache.lookup(text)
            except ValueError as exc:
                fail_line(str(exc))
            except IvrError as exc:
                fail_line(str(exc), code=1)
            rendered += not cached
            table.add_row(
                Text(script.name),
                Text(prompt_id),
                f"{audio.duration_s:.2f}",
                str(audio.frames),
                "cached" if cached else "rendered",
                Text(mask_number(text)),
            )
    return table, rendered


def register(app: typer.Typer) -> None:
    """Add `prompts` (with `prompts render`) to the CLI."""
    prompts_app = typer.Typer(
        name="prompts",
        help="Render call scripts' prompts into the prompt cache.",
        no_args_is_help=True,
    )
    prompts_app.command("render", short_help="Render prompts into the cache.")(render_command)
    app.add_typer(prompts_app, name="prompts", short_help="Render call scripts' prompts.")

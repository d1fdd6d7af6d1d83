"""`ivr synth`: write a corpus of labelled test calls (WAV files plus manifest.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ivr.app.options import OUT_DIR, PromptCacheOption
from ivr.cli.common import fail_line
from ivr.errors import IvrError, ScriptError

PROGRESS_FROM = 50
"""Corpora of at least this many calls show a progress bar."""


def synth_command(
    out: Annotated[
        Path,
        typer.Option("--out", help="Directory for the WAV files and manifest.yaml.", **OUT_DIR),
    ],
    sample: Annotated[
        bool, typer.Option("--sample", help="Write the fixed sample corpus (the default).")
    ] = False,
    count: Annotated[
        int | None, typer.Option("--count", help="Write N random calls instead.", min=1)
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the corpus.", min=0)] = 7,
    script: Annotated[
        str | None,
        typer.Option(help="Make calls for this script: answers timed to its prompts."),
    ] = None,
    realistic: Annotated[
        bool,
        typer.Option(
            "--realistic",
            help="With --script: realistic callers and lines instead (long talkers, talking "
            "over prompts, clicks, breathing, DC offset, clipping, office babble, A-law, stereo).",
        ),
    ] = False,
    line: Annotated[
        bool,
        typer.Option(
            "--line",
            help="With --script (one with amd:): what a telephone line says besides speech "
            "(a voicemail greeting and its beep, ringback, busy tone, a carrier announcement, "
            "a pressed key, a caller put on hold).",
        ),
    ] = False,
    field: Annotated[
        bool,
        typer.Option(
            "--field",
            help="With --script: the field corpus (chimes, ring tones, static, a TV, new voices "
            "on mu-law, A-law and GSM lines, babble, hum, lost packets, a speakerphone), about "
            "a third of it held out.",
        ),
    ] = False,
    audit: Annotated[
        bool,
        typer.Option(
            "--audit",
            help="Agents' recorded calls for `ivr audit` (stereo 8 kHz mu-law, agent left) with "
            "labelled violations in audit_labels.yaml, about a third held out; --count calls "
            "(default two of each kind).",
        ),
    ] = False,
    org: Annotated[str | None, typer.Option(help="With --script: value of {org}.")] = None,
    agent_id: Annotated[str | None, typer.Option(help="With --script: {agent_id}.")] = None,
    number: Annotated[str | None, typer.Option(help="With --script: {number}.")] = None,
    cache_dir: PromptCacheOption = None,
) -> None:
    """Generate labelled callee-side test calls: speech, noise, telephone channel, ground truth."""
    if sample and count is not None:
        fail_line("--sample and --count exclude each other")
    if audit:
        if sample or script is not None:
            fail_line("--audit makes its own calls: drop --sample and --script")
        _audit_corpus(out, count, seed)
        return
    if script is not None and (sample or count is not None):
        fail_line("--script makes its own calls: drop --sample and --count")
    if (realistic or line or field) and script is None:
        flag = "--realistic" if realistic else "--line" if line else "--field"
        fail_line(f"{flag} needs --script (the calls are timed to its prompts)")
    if realistic + line + field > 1:
        fail_line("--realistic, --line and --field exclude each other")
    from ivr.synth.corpus import generate
    from ivr.synth.stale import listed_files

    before = listed_files(out)  # the calls of an earlier corpus there: stale unless re-written
    if script is not None:
        values = {k: v for k, v in (("org", org), ("agent_id", agent_id), ("number", number)) if v}
        try:
            manifest = _script_corpus(script, values, out, seed, cache_dir, realistic, line, field)
        except ScriptError as exc:  # a --script that is not one: nothing written
            fail_line(str(exc))
        except (IvrError, ValueError) as exc:
            fail_line(str(exc), code=1)
        typer.echo(f"manifest {manifest}")
        _remove_stale(out, before)
        return

    def report(path: Path, entry: dict[str, Any]) -> None:
        echo(
            f"wrote {path}  {entry['situation']}, {entry['channel']}, "
            f"{entry['duration_s']:.1f} s, {len(entry['speech'])} speech segments"
        )

    echo = typer.echo
    try:
        if count is not None and count >= PROGRESS_FROM:
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task("writing calls", total=count)
                echo = progress.console.print

                def advance(path: Path, entry: dict[str, Any]) -> None:
                    report(path, entry)
                    progress.advance(task)

                manifest = generate(out, count=count, seed=seed, on_written=advance)
        else:
            manifest = generate(out, count=count, seed=seed, on_written=report)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc), code=1)
    except OSError as exc:
        where = exc.filename if exc.filename else out
        fail_line(f"{where}: {exc.strerror or exc}", code=1)
    typer.echo(f"manifest {manifest}")
    _remove_stale(out, before)


def _remove_stale(out: Path, before: frozenset[str]) -> None:
    """Remove the calls of the earlier corpus in `out` (`before`: the files its manifest
    listed) that the new manifest does not list, and say which."""
    from ivr.synth.stale import remove_stale

    try:
        removed = remove_stale(out, before)
    except OSError as exc:
        fail_line(f"{exc.filename or out}: cannot remove a stale call: {exc.strerror}", code=1)
    if removed:
        names = ", ".join(path.name for path in removed)
        typer.echo(f"removed {len(removed)} call(s) of the earlier corpus, not in the new "
                   f"manifest: {names}")  # fmt: skip


def _script_corpus(
    script_name: str,
    values: dict[str, str],
    out: Path,
    seed: int,
    cache_dir: Path | None,
    realistic: bool = False,
    line: bool = False,
    field: bool = False,
) -> Path:
    """Calls timed to `script_name`'s prompts, with the outcomes it must reach; `realistic`:
    the realistic callers and lines of ivr.synth.realistic; `line`: what a telephone line says
    besides speech (ivr.synth.line_calls); `field`: the field corpus (ivr.synth.field)."""
    from ivr.script.loader import load_script
    from ivr.synth.corpus import write_corpus
    from ivr.synth.line_calls import line_call_specs
    from ivr.synth.realistic import realistic_call_specs
    from ivr.synth.script_calls import script_call_specs
    from ivr.tts.prompt_cache import PromptCache

    script = load_script(script_name, values)
    cache = PromptCache(cache_dir)
    audio = cache.render_all(script.prompts)
    if field:
        from ivr.synth.field import field_call_specs
        from ivr.synth.field_render import write_field_corpus

        pairs = field_call_specs(script, lambda prompt: audio[prompt].frames, seed)
        return write_field_corpus(pairs, out, seed, on_written=_reporter())
    make = line_call_specs if line else realistic_call_specs if realistic else script_call_specs
    pairs = make(script, lambda prompt: audio[prompt].frames, seed)

    return write_corpus(
        [spec for spec, _ in pairs],
        out,
        seed,
        on_written=_reporter(),
        expect_extra={spec.name: extra for spec, extra in pairs},
    )


def _audit_corpus(out: Path, count: int | None, seed: int) -> None:
    """Write the audit corpus (ivr.synth.audit_corpus) and say what was written."""
    from ivr.synth.audit_corpus import write_audit_corpus

    def report(path: Path, call: Any) -> None:
        failing = [k for k, v in call.scene.labels().items() if v["verdict"] == "fail"]
        typer.echo(
            f"wrote {path}  {call.scene.duration_s:.1f} s, {call.part}, "
            f"expect {', '.join(failing) or 'no violation'}"
        )

    try:
        labels = write_audit_corpus(out, count, seed, on_written=report)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc), code=1)
    except OSError as exc:
        fail_line(f"{exc.filename or out}: {exc.strerror or exc}", code=1)
    typer.echo(f"labels {labels}")


def _reporter():
    def report(path: Path, entry: dict[str, Any]) -> None:
        side = f", callee {entry['callee_channel']}" if entry.get("callee_channel") else ""
        part = f" ({entry['expect']['part']})" if entry["expect"].get("part") else ""
        typer.echo(
            f"wrote {path}  {entry['situation']}, {entry['channel']}{side}, "
            f"expect {entry['expect'].get('outcome')}{part}"
        )

    return report


def register(app: typer.Typer) -> None:
    """Add `synth` to the CLI."""
    app.command("synth", short_help="Write labelled test calls and their manifest.")(synth_command)

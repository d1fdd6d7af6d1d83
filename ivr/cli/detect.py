"""`ivr detect`: what the detectors see in a recording, as a table or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ivr.audio.source import CHANNELS, RAW_ENCODINGS, FileSource, RawFormat
from ivr.cli.common import detector_settings, fail_line, make_console
from ivr.detect import Analysis, analyze
from ivr.errors import IvrError


def _segment_table(analysis: Analysis) -> Table:
    title = (
        f"{escape(analysis.name)}: [bold]{analysis.classification}[/bold]  "
        f"{analysis.duration_s:.2f} s, noise floor {analysis.floor_dbfs:.1f} dBFS "
        f"(max {analysis.floor_max_dbfs:.1f})"
    )
    table = Table(title=title, title_justify="left", show_edge=False)
    for name in ("#", "start s", "end s", "length s", "level dBFS", "SNR dB"):
        table.add_column(name, justify="right")
    for i, s in enumerate(analysis.segments, 1):
        table.add_row(
            str(i),
            f"{s.start_s:.2f}",
            f"{s.end_s:.2f}",
            f"{s.duration_s:.2f}",
            f"{s.level_dbfs:.1f}",
            f"{s.snr_db:.1f}",
        )
    if not analysis.segments:
        table.add_row("-", "no speech", "", "", "", "")
    return table


def _summary_table(rows: list[tuple[str, Analysis | None, str | None, str]]) -> Table:
    with_expect = any(expected is not None for _, _, expected, _ in rows)
    table = Table(title="Summary", title_justify="left")
    for name in ("file", "classification", "speech s", "segments", "floor dBFS"):
        table.add_column(name, justify="left" if name in ("file", "classification") else "right")
    if with_expect:
        table.add_column("expected")
        table.add_column("result")
    for file, analysis, expected, _error in rows:
        if analysis is None:
            cells = [escape(file), "[red]error[/red]", "", "", ""]
        else:
            cells = [
                escape(file),
                str(analysis.classification),
                f"{analysis.speech_s:.2f}",
                str(len(analysis.segments)),
                f"{analysis.floor_dbfs:.1f}",
            ]
        if with_expect:
            ok = analysis is not None and expected == str(analysis.classification)
            verdict = "[green]pass[/green]" if ok else "[red]FAIL[/red]"
            cells += [expected or "-", verdict if expected else "-"]
        table.add_row(*cells)
    return table


def _expectations(manifest: Path | None) -> dict[str, str]:
    if manifest is None:
        return {}
    from ivr.synth.manifest import load_manifest

    loaded = load_manifest(manifest)
    return {call.file: call.expect.classification for call in loaded.calls}


def detect_command(
    files: Annotated[list[Path], typer.Argument(help="Recordings to analyse.", show_default=False)],
    channel: Annotated[
        str, typer.Option(help="Stereo files: which side is the callee (left, right, mix).")
    ] = "mix",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    raw_rate: Annotated[
        int | None, typer.Option(help="Headerless raw audio: sample rate (Hz).")
    ] = None,
    raw_encoding: Annotated[
        str, typer.Option(help=f"Headerless raw audio: {', '.join(RAW_ENCODINGS)}.")
    ] = "s16le",
    raw_channels: Annotated[int, typer.Option(help="Headerless raw audio: channels.")] = 1,
    config: Annotated[
        Path | None, typer.Option(help="YAML file with detector settings (a `detect:` section).")
    ] = None,
    settings_overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a detector setting, e.g. vad.aggressiveness=3."),
    ] = None,
    expect: Annotated[
        Path | None,
        typer.Option(help="Manifest with the expected classification of each file."),
    ] = None,
) -> None:
    """Show what the detectors see: speech segments, levels, noise floor, SNR, classification."""
    if channel not in CHANNELS:
        fail_line(f"invalid --channel {channel!r}: use left, right or mix")
    try:
        settings = detector_settings(config, settings_overrides or [])
        raw = RawFormat(raw_rate, raw_encoding, raw_channels) if raw_rate is not None else None
        expected = _expectations(expect)
    except (ValueError, IvrError) as exc:
        fail_line(str(exc))
    console = make_console()
    errors = make_console(stderr=True)
    rows: list[tuple[str, Analysis | None, str | None, str]] = []
    results: list[dict] = []
    failed = False
    for path in files:
        try:
            analysis = analyze(FileSource(path, channel=channel, raw=raw), settings)
        except IvrError as exc:
            failed = True
            errors.print(
                f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True
            )
            rows.append((path.name, None, expected.get(path.name), str(exc)))
            results.append({"file": str(path), "error": str(exc)})
            continue
        rows.append((path.name, analysis, expected.get(path.name), ""))
        results.append(analysis.to_dict())
        if not as_json:
            console.print(_segment_table(analysis))
            console.print()
    if as_json:
        sys.stdout.write(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    elif len(rows) > 1 or expected:
        console.print(_summary_table(rows))
    mismatched = any(
        exp is not None and (a is None or str(a.classification) != exp) for _, a, exp, _ in rows
    )
    if failed or mismatched:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `detect` to the CLI."""
    app.command("detect")(detect_command)

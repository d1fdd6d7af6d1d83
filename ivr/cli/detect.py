"""`ivr detect`: what the detectors see in a recording, as a table or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ivr.app.config import call_settings
from ivr.app.options import (
    IN_FILE,
    CalleeChannel,
    RawChannelsOption,
    RawEncodingOption,
    RawRateOption,
    channel_option,
)
from ivr.audio.format import ms_to_frames
from ivr.audio.source import CHANNELS, FileSource, RawFormat
from ivr.call.expect import callee_channels
from ivr.cli.common import fail_line, make_console, say
from ivr.cli.tables import print_table
from ivr.detect import Analysis, analyze
from ivr.detect.analysis import AMD_ASSUMES
from ivr.errors import IvrError


class ScriptGains:
    """How a script turns a quiet callee up: the input gain steps of its start state's
    low_volume handlers (dB), how many quiet answers it hears before it closes, and the verdict
    on a recording through them (its speech segments grouped into answers as the script's
    end_of_speech_s groups them)."""

    def __init__(self, name: str) -> None:
        from ivr.engine.utterance import input_gain_steps, low_volume_answers
        from ivr.script.loader import load_script_structure

        script = load_script_structure(name)
        start = script.states[script.start]
        self.name = script.name
        self.steps = input_gain_steps(start)
        self.answers = low_volume_answers(start)
        listen = start.listen
        self.end_of_speech = ms_to_frames(listen.end_of_speech_s * 1000) if listen else 0

    def verdict(self, analysis: Analysis) -> dict:
        """The classification as the script's calls reach it, with the gain (dB) it takes."""
        from ivr.detect import Situation
        from ivr.engine.utterance import audible_gain_db

        gain = None
        if analysis.classification in (Situation.SPEECH, Situation.LOW_VOLUME):
            gain = audible_gain_db(
                analysis.segments,
                analysis.floor_dbfs,
                self.steps,
                analysis.settings.classify,
                self.answers,
                self.end_of_speech,
            )
        if gain is not None:
            label = "speech"
        elif analysis.classification in (Situation.SPEECH, Situation.LOW_VOLUME):
            label = "low_volume"  # the script hangs up before it hears it loud enough
        else:
            label = str(analysis.classification)
        return {
            "script": self.name,
            "gain_steps_db": list(self.steps),
            "classification": label,
            "gain_db": gain,
        }

    def describe(self, analysis: Analysis) -> str:
        """One phrase: e.g. `speech at +12 dB input gain` or `low_volume even at +12 dB`."""
        v = self.verdict(analysis)
        top = f"+{max(self.steps):g} dB" if self.steps else "0 dB (no gain steps)"
        if v["gain_db"]:
            return f"speech at +{v['gain_db']:g} dB input gain"
        if v["classification"] == "low_volume":
            return f"low_volume even at {top}"
        return v["classification"]


def _segment_table(analysis: Analysis) -> Table:
    """The speech segments of one recording (its heading and line are printed around it)."""
    table = Table(show_edge=False)
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


def _heading(analysis: Analysis, gains: ScriptGains | None) -> list[str]:
    """The phrases of a file's heading: its name and classification, its length (s), its
    noise floor (dBFS) and what the script's gain steps make of it."""
    phrases = [
        f"{analysis.name}: {analysis.classification}",
        f"{analysis.duration_s:.2f} s long",
        f"noise floor {analysis.floor_dbfs:.1f} dBFS (max {analysis.floor_max_dbfs:.1f})",
    ]
    if gains is not None:
        phrases.append(f"through {gains.name}: {gains.describe(analysis)}")
    return phrases


def _line_phrases(analysis: Analysis, amd: bool) -> list[str]:
    """The line besides speech: keys, tones, with `amd` the answering-machine verdict, and what
    a call would meet first on the line (without `amd`: only when a tone decides it)."""
    from ivr.audio.format import frames_to_seconds
    from ivr.events import KeyPressed

    keys = ", ".join(
        f"{e.key} at {frames_to_seconds(e.frame):.2f} s"
        for e in analysis.line_events
        if isinstance(e, KeyPressed)
    )
    tones = ", ".join(f"{t.kind} at {frames_to_seconds(t.frame):.2f} s" for t in analysis.tones)
    phrases = [f"keys: {keys or '-'}", f"tones: {tones or '-'}"]
    if amd:
        verdict = analysis.machine_verdict
        shown = f"{verdict.verdict} ({verdict.cause})" if verdict is not None else "-"
        phrases.append(f"answering machine: {shown}")
    line = _line(analysis, amd)
    if amd or line != "-":
        phrases.append(f"line: {line}")
    return phrases


def _fit(phrases: list[str], width: int, sep: str) -> list[str]:
    """`phrases` joined by `sep` into lines of at most `width` characters, broken only between
    phrases (a longer phrase keeps a line of its own); later lines indented by two spaces."""
    lines: list[str] = []
    for phrase in phrases:
        if lines and len(lines[-1]) + len(sep) + len(phrase) <= width:
            lines[-1] += sep + phrase
        elif lines:
            lines[-1] += sep.rstrip()
            lines.append("  " + phrase)
        else:
            lines.append(phrase)
    return lines


def _print_file(console: Console, analysis: Analysis, gains: ScriptGains | None, amd: bool) -> None:
    """One recording: its heading, its speech segments, its line; never broken mid-phrase."""
    from rich.text import Text

    for i, line in enumerate(_fit(_heading(analysis, gains), console.width, ", ")):
        text = Text(line)
        if i == 0:  # the classification after the file's name, in bold
            start = len(analysis.name) + 2
            text.stylize("bold", start, start + len(str(analysis.classification)))
        console.print(text, highlight=False)
    print_table(console, _segment_table(analysis))
    for line in _fit(_line_phrases(analysis, amd), console.width, "; "):
        console.print(Text(line), highlight=False)


def _line(analysis: Analysis, amd: bool = True) -> str:
    """What a call on this line would meet first: a network tone, a carrier's announcement, a
    machine, a person (answering-machine detection: human or not sure), or `-` (nothing
    decided). Without `amd`, from the tones alone."""
    if not amd:
        return analysis.tone_outcome or "-"
    if analysis.line_outcome is not None:
        return analysis.line_outcome
    verdict = analysis.machine_verdict
    if verdict is None:
        return "-"
    return "person" if verdict.verdict == "human" else "person (not sure)"


def _summary_table(
    rows: list[tuple[str, Analysis | None, str | None, str]],
    gains: ScriptGains | None = None,
    amd: bool = False,
) -> Table:
    """A row per file; the AMD column only with `amd`."""
    with_expect = any(expected is not None for _, _, expected, _ in rows)
    table = Table(title="Summary", title_justify="left")
    for name in ("file", "classification", "speech s", "segments", "floor dBFS", "keys"):
        table.add_column(name, justify="left" if name in ("file", "classification") else "right")
    table.add_column("tones")
    if amd:
        table.add_column("AMD")
    table.add_column("line")
    if gains is not None:
        table.add_column(f"through {escape(gains.name)}")
    if with_expect:
        table.add_column("expected")
        table.add_column("result")
    for file, analysis, expected, _error in rows:
        if analysis is None:
            cells = [escape(file), "[red]error[/red]", *[""] * (7 if amd else 6)]
        else:
            verdict = analysis.machine_verdict
            cells = [
                escape(file),
                str(analysis.classification),
                f"{analysis.speech_s:.2f}",
                str(len(analysis.segments)),
                f"{analysis.floor_dbfs:.1f}",
                escape(analysis.keys) or "-",
                ", ".join(t.kind for t in analysis.tones) or "-",
                *([verdict.verdict if verdict is not None else "-"] if amd else []),
                _line(analysis, amd),
            ]
        if gains is not None:
            cells.append(gains.describe(analysis) if analysis is not None else "")
        if with_expect:
            ok = analysis is not None and expected == str(analysis.classification)
            verdict = "[green]pass[/green]" if ok else "[red]FAIL[/red]"
            cells += [expected or "-", verdict if expected else "-"]
        table.add_row(*cells)
    return table


def _expectations(manifest: Path | None) -> dict[str, str]:
    if manifest is None:
        return {}
    from ivr.corpus.manifest import load_manifest

    loaded = load_manifest(manifest)
    return {call.file: call.expect.classification for call in loaded.calls}


def detect_command(
    files: Annotated[list[Path], typer.Argument(help="Recordings to analyse.", show_default=False)],
    channel: Annotated[
        CalleeChannel | None,
        channel_option(
            "Stereo files: which side is the callee (left, right, mix). Default: as the "
            "--expect manifest says for each file (`callee_channel`), else mix."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    raw_rate: RawRateOption = None,
    raw_encoding: RawEncodingOption = "s16le",
    raw_channels: RawChannelsOption = 1,
    config: Annotated[
        Path | None,
        typer.Option(help="YAML file with detector settings (a `detect:` section).", **IN_FILE),
    ] = None,
    settings_overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a detector setting, e.g. vad.aggressiveness=3."),
    ] = None,
    expect: Annotated[
        Path | None,
        typer.Option(help="Manifest with the expected classification of each file.", **IN_FILE),
    ] = None,
    script: Annotated[
        str | None,
        typer.Option(
            help="Also judge quiet speech as this script's calls do, through its input gain "
            "steps (outbound: +6, +12 dB): a bundled name or a path."
        ),
    ] = None,
    amd: Annotated[
        bool,
        typer.Option(
            "--amd",
            help="Also judge each recording as a telephone line just answered: the "
            "answering-machine verdict (AMD), from the recording's start.",
        ),
    ] = False,
) -> None:
    """Show what the detectors see: speech segments, levels, noise floor, SNR, classification,
    telephone keys (DTMF), line tones and, with --amd, the answering-machine verdict."""
    if channel is not None and channel not in CHANNELS:
        fail_line(f"invalid --channel {channel!r}: use left, right or mix")
    try:
        settings = call_settings(config, settings_overrides or [])
        raw = RawFormat(raw_rate, raw_encoding, raw_channels) if raw_rate is not None else None
        expected = _expectations(expect)
        sides = callee_channels(expect) if channel is None else {}
        gains = ScriptGains(script) if script is not None else None
    except (ValueError, IvrError) as exc:
        fail_line(str(exc))
    console = make_console()
    errors = make_console(stderr=True)
    if amd and not as_json:
        say(console, f"--amd: assuming {AMD_ASSUMES}")
    rows: list[tuple[str, Analysis | None, str | None, str]] = []
    results: list[dict] = []
    failed = False
    for path in files:
        try:
            side = channel or sides.get(path.name, "mix")
            analysis = analyze(FileSource(path, channel=side, raw=raw), settings)
        except IvrError as exc:
            failed = True
            errors.print(
                f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True
            )
            rows.append((path.name, None, expected.get(path.name), str(exc)))
            results.append({"file": str(path), "error": str(exc)})
            continue
        rows.append((path.name, analysis, expected.get(path.name), ""))
        results.append(analysis.to_dict(amd))
        if gains is not None:
            results[-1]["through_script"] = gains.verdict(analysis)
        if not as_json:
            _print_file(console, analysis, gains, amd)
            console.print()
    if as_json:
        sys.stdout.write(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    elif len(rows) > 1 or expected:
        print_table(console, _summary_table(rows, gains, amd), keep=("file", "classification"))
    mismatched = any(
        exp is not None and (a is None or str(a.classification) != exp) for _, a, exp, _ in rows
    )
    if failed or mismatched:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `detect` to the CLI."""
    app.command("detect", short_help="Show what the detectors hear in recordings.")(detect_command)

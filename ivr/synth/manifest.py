"""The manifest of a labelled call corpus (`manifest.yaml`): schema, writing and loading.

Times are seconds from the start of the file; levels are dBFS (0 dBFS = RMS of a full-scale
int16 square wave), measured on the 16 kHz call before channel coding (the telephone band-pass
lowers them, hum most of all): speech levels are active speech levels, noise levels the RMS over
the whole call.

    version: 1
    generator: ivr synth
    seed: 7
    calls:
    - file: sample_01_answers_at_once.wav
      situation: answers_at_once
      channel: clean                  # clean | telephone
      sample_rate: 16000              # of the file (Hz): 16000 clean, 8000 telephone
      encoding: pcm_16                # pcm_16 | mulaw
      duration_s: 8.0
      noise: {type: pink, level_dbfs: -65.0}    # level null for type none
      speech:                         # labelled segments in time order
      - {start_s: 0.3, end_s: 0.54, level_dbfs: -20.0, text: '喂?', source: tts}
      expect:
        classification: speech        # speech | low_volume | noise | silence
        first_speech_s: 0.3           # null without speech
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivr.errors import IvrError

VERSION = 1
GENERATOR = "ivr synth"

SITUATIONS = (
    "answers_at_once",
    "answers_late",
    "never_answers",
    "too_quiet",
    "noisy_line",
    "cut_in_out",
)
"""What happens on a call."""

EXPECTED_CLASSIFICATION = {
    "answers_at_once": "speech",
    "answers_late": "speech",
    "never_answers": "silence",
    "too_quiet": "low_volume",
    "noisy_line": "noise",
    "cut_in_out": "speech",
}
"""The classification a detector should give each situation."""

CLASSIFICATIONS = ("speech", "low_volume", "noise", "silence")
CHANNEL_CODING = {"clean": (16000, "pcm_16"), "telephone": (8000, "mulaw")}
"""Channel to (file sample rate in Hz, encoding name)."""
NOISE_TYPES = ("none", "white", "pink", "babble", "hum")
SOURCES = ("tts", "human")


class ManifestError(IvrError):
    """A manifest cannot be read or breaks the schema: the message names the file and field."""


@dataclass(frozen=True)
class NoiseLabel:
    """The line noise of a call."""

    type: str
    """none | white | pink | babble | hum."""
    level_dbfs: float | None
    """RMS over the whole call (dBFS); None for `none`."""


@dataclass(frozen=True)
class SpeechSegment:
    """One labelled stretch of callee speech."""

    start_s: float
    """Start (s)."""
    end_s: float
    """End (s), after start_s."""
    level_dbfs: float
    """Active speech level of the utterance it belongs to (dBFS)."""
    text: str | None
    """What is said (None for an untranscribed recording)."""
    source: str
    """tts | human."""


@dataclass(frozen=True)
class Expectation:
    """What a detector should report for a call."""

    classification: str
    """speech | low_volume | noise | silence."""
    first_speech_s: float | None
    """Start of the first speech segment (s); None without speech."""


@dataclass(frozen=True)
class CallEntry:
    """One call of the corpus."""

    file: str
    situation: str
    channel: str
    sample_rate: int
    """Sample rate of the file (Hz)."""
    encoding: str
    duration_s: float
    """Length of the call (s)."""
    noise: NoiseLabel
    speech: tuple[SpeechSegment, ...]
    expect: Expectation


@dataclass(frozen=True)
class Manifest:
    """A loaded manifest."""

    path: Path
    """The manifest file; call files are relative to its directory."""
    version: int
    generator: str
    seed: int | None
    calls: tuple[CallEntry, ...]

    def audio_path(self, call: CallEntry) -> Path:
        """Where the WAV file of `call` is."""
        return self.path.parent / call.file

    def find(self, file: str | Path) -> CallEntry | None:
        """The entry for a WAV file (matched by file name), or None."""
        name = Path(file).name
        return next((c for c in self.calls if c.file == name), None)


class _FlowDict(dict):
    """A mapping written in YAML flow style (one line)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _FlowDict, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def manifest_yaml(seed: int | None, entries: list[dict[str, Any]]) -> str:
    """The manifest text (UTF-8 YAML) for call entries as built by the renderer."""
    calls = []
    for entry in entries:
        call = dict(entry)
        call["noise"] = _FlowDict(entry["noise"])
        call["speech"] = [_FlowDict(segment) for segment in entry["speech"]]
        call["expect"] = dict(entry["expect"])
        calls.append(call)
    document = {"version": VERSION, "generator": GENERATOR, "seed": seed, "calls": calls}
    return yaml.dump(
        document,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
    )


def load_manifest(path: str | Path) -> Manifest:
    """Read and check a manifest; raises `ManifestError` naming the file and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}: not valid YAML{where}") from None
    reader = _Reader(path)
    top = reader.mapping(data, "manifest")
    version = reader.field(top, "version", "", int)
    if version != VERSION:
        raise ManifestError(f"{path}: version: unsupported {version!r} (expected {VERSION})")
    generator = reader.field(top, "generator", "", str)
    seed = reader.field(top, "seed", "", int, optional=True)
    raw_calls = reader.field(top, "calls", "", list)
    calls = tuple(reader.call(item, f"calls[{i}]") for i, item in enumerate(raw_calls))
    files = [c.file for c in calls]
    duplicates = sorted({f for f in files if files.count(f) > 1})
    if duplicates:
        raise ManifestError(f"{path}: calls: file {duplicates[0]!r} listed more than once")
    return Manifest(path, version, generator, seed, calls)


class _Reader:
    """Field checks raising one-line `ManifestError`s that name the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, name: str, problem: str) -> ManifestError:
        return ManifestError(f"{self.path}: {name}: {problem}")

    def mapping(self, value: Any, name: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a mapping, got {type(value).__name__}")
        return value

    def field(self, data: dict, key: str, where: str, kind: type, optional: bool = False) -> Any:
        """data[key] checked to be a `kind` (None allowed when `optional`)."""
        name = f"{where}.{key}" if where else key
        if key not in data:
            raise self.fail(name, "missing")
        value = data[key]
        if value is None and optional:
            return None
        if kind is float:
            ok = isinstance(value, int | float) and math.isfinite(value)
        else:
            ok = isinstance(value, kind)
        if not ok or isinstance(value, bool):
            expected = {int: "an integer", float: "a number", str: "a string", list: "a list"}
            raise self.fail(name, f"expected {expected.get(kind, 'a mapping')}, got {value!r}")
        return float(value) if kind is float else value

    def choice(self, data: dict, key: str, where: str, allowed: tuple[str, ...]) -> str:
        value = self.field(data, key, where, str)
        if value not in allowed:
            raise self.fail(f"{where}.{key}", f"must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def call(self, item: Any, where: str) -> CallEntry:
        data = self.mapping(item, where)
        file = self.field(data, "file", where, str)
        if not file or Path(file).name != file:
            raise self.fail(f"{where}.file", f"must be a plain file name, got {file!r}")
        channel = self.choice(data, "channel", where, tuple(CHANNEL_CODING))
        rate, encoding = CHANNEL_CODING[channel]
        if self.field(data, "sample_rate", where, int) != rate:
            raise self.fail(f"{where}.sample_rate", f"must be {rate} for a {channel} call")
        if self.field(data, "encoding", where, str) != encoding:
            raise self.fail(f"{where}.encoding", f"must be {encoding} for a {channel} call")
        duration = self.field(data, "duration_s", where, float)
        if duration <= 0:
            raise self.fail(f"{where}.duration_s", f"must be positive, got {duration}")
        noise_data = self.mapping(self.field(data, "noise", where, dict), f"{where}.noise")
        noise = NoiseLabel(
            self.choice(noise_data, "type", f"{where}.noise", NOISE_TYPES),
            self.field(noise_data, "level_dbfs", f"{where}.noise", float, optional=True),
        )
        if (noise.type == "none") != (noise.level_dbfs is None):
            raise self.fail(f"{where}.noise", "level_dbfs must be null exactly for type none")
        speech = tuple(
            self.segment(s, f"{where}.speech[{i}]", duration)
            for i, s in enumerate(self.field(data, "speech", where, list))
        )
        for i, (a, b) in enumerate(itertools.pairwise(speech)):
            if b.start_s < a.end_s:
                raise self.fail(f"{where}.speech[{i + 1}]", "starts before the previous one ends")
        expect_data = self.mapping(self.field(data, "expect", where, dict), f"{where}.expect")
        expect = Expectation(
            self.choice(expect_data, "classification", f"{where}.expect", CLASSIFICATIONS),
            self.field(expect_data, "first_speech_s", f"{where}.expect", float, optional=True),
        )
        return CallEntry(
            file=file,
            situation=self.choice(data, "situation", where, SITUATIONS),
            channel=channel,
            sample_rate=rate,
            encoding=encoding,
            duration_s=duration,
            noise=noise,
            speech=speech,
            expect=expect,
        )

    def segment(self, item: Any, where: str, duration: float) -> SpeechSegment:
        data = self.mapping(item, where)
        start = self.field(data, "start_s", where, float)
        end = self.field(data, "end_s", where, float)
        if not 0.0 <= start < end <= duration + 1e-9:
            raise self.fail(where, f"need 0 <= start_s < end_s <= duration_s, got {start}..{end}")
        return SpeechSegment(
            start_s=start,
            end_s=end,
            level_dbfs=self.field(data, "level_dbfs", where, float),
            text=self.field(data, "text", where, str, optional=True),
            source=self.choice(data, "source", where, SOURCES),
        )

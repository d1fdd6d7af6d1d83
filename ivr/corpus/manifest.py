"""The manifest of a labelled call corpus (`manifest.yaml`): schema and loading.

ivr.corpus.write writes it; ivr.corpus.labels reads the parts replay, reference
recognition and tuning use, also of a manifest written by hand.

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
      channel: clean                  # clean | telephone | telephone_alaw
      sample_rate: 16000              # of the file (Hz): 16000 clean, 8000 telephone
      encoding: pcm_16                # pcm_16 | mulaw | alaw
      duration_s: 8.0
      noise: {type: pink, level_dbfs: -65.0}    # level null for type none
      speech:                         # labelled segments in time order
      - {start_s: 0.3, end_s: 0.54, level_dbfs: -20.0, text: '喂?', source: tts}
      expect:
        classification: speech        # speech | low_volume | noise | silence
        first_speech_s: 0.3           # null without speech
        # script corpora add what a replay must do: outcome, events (see ivr.call.expect) and,
        # in the realistic corpus, prompts (the prompts said, in order)

Optional fields, written only when they apply (a manifest without them is read as before, and
stays version 1):

      channels: 2                     # a stereo file (default 1) ...
      callee_channel: right           # ... with the callee on this side (left | right): replay
                                      # and detect it with `--channel right`
      dc_offset: 0.15                 # DC the recorder adds, as a fraction of full scale
      clipping: true                  # speech levels are before the recorder clipped them
      sounds:                         # non-speech sounds on the line, in time order; level:
      - {start_s: 1.2, end_s: 1.214, kind: click, level_dbfs: -14.0}   # peak (RMS for breath)
      - {start_s: 4.0, end_s: 4.1, kind: dtmf, key: '1', level_dbfs: -15.0}  # line signals:
                                      # ringback busy congestion sit dtmf beep (RMS when on)
      agent:                          # stereo: what the agent side says (like speech:)
      - {start_s: 0.0, end_s: 3.4, level_dbfs: -20.0, text: '您好!', source: tts}
      field: {class: a, ...}          # the field corpus (ivr.synth.field): its class, line,
                                      # sounds and erased frames (described there)
      expect:
        part: held_out                # tuning | held_out: the field corpus's split
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivr.corpus.situations import BASIC_SITUATIONS as BASIC_SITUATIONS
from ivr.corpus.situations import CLASSIFICATIONS as CLASSIFICATIONS
from ivr.corpus.situations import EXPECTED_CLASSIFICATION as EXPECTED_CLASSIFICATION
from ivr.corpus.situations import LINE_SITUATIONS as LINE_SITUATIONS
from ivr.corpus.situations import REALISTIC_SITUATIONS as REALISTIC_SITUATIONS
from ivr.corpus.situations import SITUATIONS as SITUATIONS
from ivr.corpus.situations import SOUND_KINDS as SOUND_KINDS
from ivr.corpus.situations import SPEECHLESS_SITUATIONS as SPEECHLESS_SITUATIONS
from ivr.errors import IvrError
from ivr.yamlfile import YamlLimitError, load_yaml

VERSION = 1
GENERATOR = "ivr synth"

CHANNEL_CODING = {
    "clean": (16000, "pcm_16"),
    "telephone": (8000, "mulaw"),
    "telephone_alaw": (8000, "alaw"),
    "telephone_gsm": (8000, "pcm_16"),
}
"""Channel to (file sample rate in Hz, encoding name); `telephone_gsm` is a line coded as GSM
06.10 and decoded again, stored as 8 kHz PCM (the field corpus, ivr.synth.field)."""
PARTS = ("tuning", "held_out")
"""`expect.part` of a call: tuned against, or kept aside to check the tuning on."""
NOISE_TYPES = ("none", "white", "pink", "babble", "hum", "office")
"""Line noise; `office` is distant babble of real human talkers only."""
SOURCES = ("tts", "human")
SIDES = ("left", "right")
"""Sides of a stereo file that can hold the callee."""


class ManifestError(IvrError):
    """A manifest cannot be read or breaks the schema: the message names the file and field."""


@dataclass(frozen=True)
class NoiseLabel:
    """The line noise of a call."""

    type: str
    """none | white | pink | babble | hum | office."""
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
class SoundLabel:
    """One non-speech sound on the line (a click, pop, knock or breath)."""

    start_s: float
    """Start (s)."""
    end_s: float
    """End (s), after start_s."""
    kind: str
    """click | pop | knock | breath, or a line signal: ringback | busy | congestion | sit | dtmf |
    beep."""
    level_dbfs: float
    """Peak sample level (dBFS) of a click, pop or knock; RMS over a breath or over a line
    signal's on periods (dBFS)."""
    key: str | None = None
    """The telephone key of a dtmf sound."""


@dataclass(frozen=True)
class Expectation:
    """What a detector should report for a call."""

    classification: str
    """speech | low_volume | noise | silence."""
    first_speech_s: float | None
    """Start of the first speech segment (s); None without speech."""
    part: str | None = None
    """tuning | held_out: which part of a corpus the call belongs to; None when not split."""


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
    channels: int = 1
    """Channels of the file: 1, or 2 for a stereo recording with the agent on one side."""
    callee_channel: str | None = None
    """Stereo: the callee's side (left | right), as `--channel` takes it; None for mono."""
    dc_offset: float = 0.0
    """DC offset of the recording (fraction of full scale, -0.5..0.5)."""
    clipping: bool = False
    """Speech levels are levels before the recorder clipped the talker at full scale."""
    sounds: tuple[SoundLabel, ...] = ()
    """Non-speech sounds on the line, in time order."""
    agent: tuple[SpeechSegment, ...] = ()
    """Stereo: the agent side's speech, in time order."""

    @property
    def replay_channel(self) -> str:
        """The `--channel` to replay or detect this file with: the callee's side, else mix."""
        return self.callee_channel or "mix"


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


def read_manifest_data(path: Path) -> Any:
    """A manifest file's YAML as data; ManifestError naming the file if it cannot be read or
    is not YAML, and its line if it goes beyond a limit of `ivr.yamlfile` (nesting, a number's
    length)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from None
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if isinstance(exc, YamlLimitError) and mark is not None:
            raise ManifestError(f"{path}:{mark.line + 1}: {exc.problem}") from None
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}: not valid YAML{where}") from None


def load_manifest(path: str | Path) -> Manifest:
    """Read and check a manifest; raises `ManifestError` naming the file and the problem."""
    path = Path(path)
    data = read_manifest_data(path)
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


class FieldReader:
    """Field checks raising one-line `ManifestError`s that name the file (`path`) and the
    field: what every labels file of this package is read with."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, name: str, problem: str) -> ManifestError:
        return ManifestError(f"{self.path}: {name}: {problem}")

    def mapping(self, value: Any, name: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a mapping, got {type(value).__name__}")
        return value


class _Reader(FieldReader):
    """The manifest's fields and calls."""

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
        speech = self.segments(data, "speech", where, duration)
        expect_data = self.mapping(self.field(data, "expect", where, dict), f"{where}.expect")
        expect = Expectation(
            self.choice(expect_data, "classification", f"{where}.expect", CLASSIFICATIONS),
            self.field(expect_data, "first_speech_s", f"{where}.expect", float, optional=True),
            self.choice(expect_data, "part", f"{where}.expect", PARTS)
            if "part" in expect_data
            else None,
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
            **self.optional(data, where, duration),
        )

    def optional(self, data: dict, where: str, duration: float) -> dict[str, Any]:
        """The optional fields of a call (stereo, DC offset, clipping, sounds), checked."""
        out: dict[str, Any] = {}
        if "agent" in data:
            out["agent"] = self.segments(data, "agent", where, duration)
        channels = self.field(data, "channels", where, int) if "channels" in data else 1
        if channels not in (1, 2):
            raise self.fail(f"{where}.channels", f"must be 1 or 2, got {channels}")
        if ("callee_channel" in data) != (channels == 2):
            raise self.fail(f"{where}.callee_channel", "must be given exactly for a stereo file")
        if channels == 2:
            out.update(channels=2, callee_channel=self.choice(data, "callee_channel", where, SIDES))
        if "dc_offset" in data:
            out["dc_offset"] = self.field(data, "dc_offset", where, float)
            if not -0.5 <= out["dc_offset"] <= 0.5:
                raise self.fail(
                    f"{where}.dc_offset", f"must be in -0.5..0.5, got {out['dc_offset']}"
                )
        if not isinstance(data.get("clipping", False), bool):
            raise self.fail(
                f"{where}.clipping", f"expected true or false, got {data['clipping']!r}"
            )
        out["clipping"] = data.get("clipping", False)
        if "sounds" in data:
            out["sounds"] = tuple(
                SoundLabel(
                    *self.span(item, f"{where}.sounds[{i}]", duration),
                    kind=self.choice(item, "kind", f"{where}.sounds[{i}]", SOUND_KINDS),
                    level_dbfs=self.field(item, "level_dbfs", f"{where}.sounds[{i}]", float),
                    key=self.field(item, "key", f"{where}.sounds[{i}]", str, optional=True)
                    if "key" in item
                    else None,
                )
                for i, item in enumerate(self.field(data, "sounds", where, list))
            )
        return out

    def span(self, item: Any, where: str, duration: float) -> tuple[float, float]:
        """(start_s, end_s) of a labelled stretch, inside the call and in order."""
        data = self.mapping(item, where)
        start = self.field(data, "start_s", where, float)
        end = self.field(data, "end_s", where, float)
        if not 0.0 <= start < end <= duration + 1e-9:
            raise self.fail(where, f"need 0 <= start_s < end_s <= duration_s, got {start}..{end}")
        return start, end

    def segments(
        self, data: dict, key: str, where: str, duration: float
    ) -> tuple[SpeechSegment, ...]:
        """The labelled segments under `key`, checked to be in time order and disjoint."""
        segments = tuple(
            self.segment(s, f"{where}.{key}[{i}]", duration)
            for i, s in enumerate(self.field(data, key, where, list))
        )
        for i, (a, b) in enumerate(itertools.pairwise(segments)):
            if b.start_s < a.end_s:
                raise self.fail(f"{where}.{key}[{i + 1}]", "starts before the previous one ends")
        return segments

    def segment(self, item: Any, where: str, duration: float) -> SpeechSegment:
        start, end = self.span(item, where, duration)
        data = item
        return SpeechSegment(
            start_s=start,
            end_s=end,
            level_dbfs=self.field(data, "level_dbfs", where, float),
            text=self.field(data, "text", where, str, optional=True),
            source=self.choice(data, "source", where, SOURCES),
        )

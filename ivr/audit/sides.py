"""A call's two sides, the agent's and the customer's, through the same front end as replay.

A recording is a stereo file, one party per side (`--agent left|right` says which is the
agent), or a pair of mono files written `agent.wav+customer.wav`. Each side is read by
ivr.audio.source (any rate, 8 kHz mu-law and A-law WAV included) and analysed by
`ivr.detect.analyze` with the same settings; the agent's side also gives its level envelope
for the speaking rate (ivr.audit.pace), taken from the same blocks in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.audio.source import FileSource, open_source
from ivr.audit.music import AgentMusic, read_music
from ivr.audit.pace import LevelEnvelope
from ivr.call_settings import CallSettings
from ivr.detect import Analysis, analyze
from ivr.detect.classify import is_clear
from ivr.errors import AudioFormatError
from ivr.events import Segment

AGENT_SIDES = ("left", "right")
"""Which side of a stereo recording is the agent's; the customer is on the other."""

QUIET_FLOOR_PERCENTILE = 10
"""The agent's line floor, for telling pauses from sound (ivr.audit.music): this percentile
(%) of the floor in force over the call, which music on hold raises while it plays."""

PAIR_SEPARATOR = "+"
"""Joins a pair of mono files into one recording: `agent.wav+customer.wav`."""


@dataclass(frozen=True)
class Recording:
    """Where a call's two sides are: a file and a channel (left, right, or mix of a mono
    file) for each."""

    agent: Path
    agent_channel: str
    customer: Path
    customer_channel: str
    stereo: bool = True
    """Whether both sides are in one (stereo) file; False for a pair of mono files."""

    @property
    def name(self) -> str:
        """The recording's name on the scorecard: the file, or `agent+customer`."""
        if self.stereo:
            return self.agent.name
        return f"{self.agent.name}{PAIR_SEPARATOR}{self.customer.name}"


def recording(spec: str | Path, agent_side: str = "left") -> Recording:
    """The recording `spec` names: a stereo file (the agent on `agent_side`), or
    `agent.wav+customer.wav`, a pair of mono files. ValueError for a bad side."""
    if agent_side not in AGENT_SIDES:
        raise ValueError(f"invalid agent side: {agent_side!r} (expected left or right)")
    text = str(spec)
    agent, sep, customer = text.partition(PAIR_SEPARATOR)
    if sep and agent and customer and not Path(text).exists():
        return Recording(Path(agent), "mix", Path(customer), "mix", stereo=False)
    other = "right" if agent_side == "left" else "left"
    return Recording(Path(text), agent_side, Path(text), other)


class _Tee:
    """A source whose blocks also feed the agent's level envelope (same pass, same blocks),
    and are kept in `kept` when asked (`keep`)."""

    def __init__(self, source: FileSource, envelope: LevelEnvelope, keep: bool) -> None:
        self._source = source
        self._envelope = envelope
        self.name = source.name
        self.kept: list[np.ndarray] | None = [] if keep else None

    def blocks(self) -> Iterator[np.ndarray]:
        for block in self._source.blocks():
            self._envelope.feed(block)
            if self.kept is not None:
                self.kept.append(block)
            yield block


@dataclass(frozen=True)
class CallSides:
    """What the front end saw on each side of one call. `envelope_db` is the agent's 10 ms
    level envelope (dB, ivr.audit.pace); `frames` the call's length (20 ms frames: the longer
    side's)."""

    name: str
    agent: Analysis
    customer: Analysis
    envelope_db: np.ndarray
    agent_audio: np.ndarray | None = None
    """The agent's side as (n, 320) int16 frames, when kept (to recognize its words)."""
    agent_music: AgentMusic = field(default_factory=AgentMusic)
    """Music on hold on the agent's side, not its words (ivr.audit.music)."""

    @property
    def frames(self) -> int:
        """The call's length (20 ms frames)."""
        return max(self.agent.frames, self.customer.frames)

    @property
    def agent_speech(self) -> list[Segment]:
        """The agent's speech: segments clear of the line's noise (ivr.detect.classify), music
        on hold left out."""
        return self.agent_music.speech(self.agent.segments, clear_speech(self.agent))

    @property
    def customer_speech(self) -> list[Segment]:
        """The customer's speech: segments clear of the line's noise."""
        return clear_speech(self.customer)


def clear_speech(analysis: Analysis) -> list[Segment]:
    """The segments of `analysis` that stand clear of the noise as the classifier judges
    them (SNR at least classify.min_snr_db on a quiet line): on a noisy line webrtcvad also
    hears the noise as speech, and that is nobody talking."""
    classify = analysis.settings.classify
    return [s for s in analysis.segments if is_clear(s, analysis.floor_dbfs, classify)]


def _open(path: Path, channel: str, stereo: bool) -> FileSource:
    source = open_source(path, channel=channel)
    if stereo and source.info.channels < 2:
        raise AudioFormatError(
            path,
            "mono: an audit needs both sides, a stereo file (agent on one side) or a pair "
            "of mono files given as agent.wav+customer.wav",
        )
    return source


def analyze_call(
    rec: Recording, settings: CallSettings | None = None, keep_agent_audio: bool = False
) -> CallSides:
    """Both sides of `rec` through the detectors (AudioFormatError naming a file that cannot
    be read); with `keep_agent_audio`, the agent's frames read for it kept too."""
    settings = settings or CallSettings()
    agent_source = _open(rec.agent, rec.agent_channel, rec.stereo)
    customer_source = _open(rec.customer, rec.customer_channel, rec.stereo)
    envelope = LevelEnvelope()
    tee = _Tee(agent_source, envelope, keep_agent_audio)
    agent = analyze(tee, settings, keep_frames=True)  # type: ignore[arg-type]
    customer = analyze(customer_source, settings)
    audio = None
    if tee.kept is not None:
        audio = np.concatenate(tee.kept) if tee.kept else np.zeros((0, FRAME_SAMPLES), np.int16)
    music = AgentMusic()
    if settings.front_end.learned.enabled:

        def frames_of(segments: list[Segment]) -> list[np.ndarray]:
            if audio is not None:
                return _frames_in([audio], segments)
            return _frames_in(_open(rec.agent, rec.agent_channel, rec.stereo).blocks(), segments)

        track = agent.track
        assert track is not None  # kept above
        # at the line's own floor: the floor in force rises under music, so that the agent's
        # words right after it would be quiet by it
        line_floor = float(np.percentile(track.floor_dbfs, QUIET_FLOOR_PERCENTILE))
        quiet = track.level_dbfs < line_floor + settings.front_end.vad.edge_margin_db
        threshold = settings.front_end.learned.threshold
        customer_speech = clear_speech(customer)
        music = read_music(agent.segments, customer_speech, frames_of, threshold, quiet)
    return CallSides(rec.name, agent, customer, envelope.values(), audio, music)


def _frames_in(blocks: Iterable[np.ndarray], segments: list[Segment]) -> list[np.ndarray]:
    """The (n, 320) int16 frames of each of `segments` out of a side's `blocks` (read in
    order, only the segments' frames kept)."""
    parts: list[list[np.ndarray]] = [[] for _ in segments]
    pos = 0
    for block in blocks:
        end = pos + block.shape[0]
        for part, segment in zip(parts, segments, strict=True):
            first, last = max(segment.start, pos), min(segment.end, end)
            if first < last:
                part.append(block[first - pos : last - pos])
        pos = end
    return [np.concatenate(p) if p else np.zeros((0, FRAME_SAMPLES), np.int16) for p in parts]

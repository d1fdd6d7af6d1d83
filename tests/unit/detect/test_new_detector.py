"""A new detector is one module: the detector, its event and its settings group.

The toy here hears a knock on the handset: a frame louder than `knock.threshold_dbfs` after at
least `knock.quiet_frames` quieter ones. Nothing in `ivr` knows it; a FrontEndSettings with a
`knock` group adds it to the front end, its settings are set by name, the tuning cache keeps its
events, and replay carries them to the call's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pytest

from ivr.audio.format import FRAME_SAMPLES
from ivr.call.replay import replay_file
from ivr.call_settings import CallSettings, FrontEndSettings
from ivr.detect.detector import Block
from ivr.detect.frontend import Detectors
from ivr.script import load_script
from ivr.timeline import InputIgnored, read_timeline
from ivr.tune.cache import DetectorCache

# --- the new detector's module: its event, the detector, its settings --------------------


@dataclass(frozen=True, slots=True)
class Knock:
    """A knock at `frame`, `level_dbfs` loud (in the speech band), known at once."""

    frame: int
    decided_frame: int
    level_dbfs: float


class KnockDetector:
    """A frame louder than the threshold after enough quiet frames is a knock."""

    events = (Knock,)

    def __init__(self, settings: KnockSettings) -> None:
        self.settings = settings
        self._quiet = 0  # quiet frames right before the next one

    def process(self, block: Block) -> list[Knock]:
        knocks = []
        for i, level in enumerate(block.level_dbfs.tolist()):
            loud = level > self.settings.threshold_dbfs
            if loud and self._quiet >= self.settings.quiet_frames:
                knocks.append(Knock(block.base + i, block.base + i, round(level, 2)))
            self._quiet = 0 if loud else self._quiet + 1
        return knocks

    @property
    def at_rest(self) -> bool:
        return True  # it decides every frame at once

    def finish(self, frames_seen: int) -> list[Knock]:
        return []


@dataclass(frozen=True)
class KnockSettings:
    """The knock detector's settings: `knock.*`."""

    threshold_dbfs: float = -20.0
    """A frame louder than this (dBFS) may be a knock."""
    quiet_frames: int = 10
    """... after at least this many frames that are not."""

    detector: ClassVar[type] = KnockDetector
    _ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "threshold_dbfs": (-90.0, 0.0),
        "quiet_frames": (1, 1000),
    }


@dataclass(frozen=True)
class KnockFrontEnd(FrontEndSettings):
    """The front end with the knock detector: one field."""

    knock: KnockSettings = field(default_factory=KnockSettings)


# --- the tests ------------------------------------------------------------------------------

KNOCK_FRAME = 60  # 1.2 s


def knocked(seconds: float = 3.0) -> np.ndarray:
    """Quiet line noise with one 20 ms knock of a 1 kHz burst at KNOCK_FRAME."""
    rng = np.random.default_rng(1)
    audio = (rng.normal(0, 30, int(seconds * 16000))).astype(np.int16)
    t = np.arange(FRAME_SAMPLES) / 16000
    start = KNOCK_FRAME * FRAME_SAMPLES
    audio[start : start + FRAME_SAMPLES] = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    return audio


def test_its_settings_are_set_by_name_and_checked_by_range():
    settings = CallSettings(front_end=KnockFrontEnd())
    assert "knock.threshold_dbfs" in settings.as_dict()
    changed = settings.with_overrides({"knock.threshold_dbfs": -30, "vad.aggressiveness": 3})
    assert isinstance(changed.front_end, KnockFrontEnd)
    assert changed.front_end.knock == KnockSettings(threshold_dbfs=-30.0)
    assert changed.front_end.vad.aggressiveness == 3
    with pytest.raises(ValueError, match=r"knock.quiet_frames must be in 1..1000, got 0"):
        settings.with_overrides({"knock.quiet_frames": 0})
    with pytest.raises(ValueError, match=r"unknown detector setting 'knock\.x'"):
        settings.with_overrides({"knock.x": 1})  # the message lists knock.* too


def test_the_front_end_runs_it_and_hands_its_events_on():
    audio = knocked().reshape(-1, FRAME_SAMPLES)
    detectors = Detectors(KnockFrontEnd())
    events = [e for e in detectors.process(audio).line_events if isinstance(e, Knock)]
    assert [(e.frame, e.decided_frame) for e in events] == [(KNOCK_FRAME, KNOCK_FRAME)]
    plain = Detectors(FrontEndSettings()).process(audio)
    assert not any(isinstance(e, Knock) for e in plain.line_events)


def test_the_tuning_cache_keeps_its_events_under_its_settings(tmp_path, write_wav):
    path = write_wav("knock.wav", knocked())
    cache = DetectorCache(tmp_path / "cache")
    computed = cache.get(path, KnockFrontEnd(), 200)
    read = cache.get(path, KnockFrontEnd(), 200)  # from disk
    assert [e for e in read.events if isinstance(e, Knock)] == [
        e for e in computed.events if isinstance(e, Knock)
    ]
    assert any(isinstance(e, Knock) for e in read.events)
    louder = KnockFrontEnd(knock=KnockSettings(threshold_dbfs=-5.0))
    assert not any(isinstance(e, Knock) for e in cache.get(path, louder, 200).events)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


SCRIPT = """\
script: knock
start: ask
prompts:
  ask: "您好"
defaults:
  listen: {noinput_timeout_s: 2.0, end_of_speech_s: 0.8, max_speech_s: 10.0}
states:
  ask:
    say: [ask]
    listen: {}
    "on":
      speech: [{count: 1, do: [{hangup: answered}]}]
      noinput: [{count: 1, do: [{hangup: no_answer}]}]
"""


class Prompts:
    """Every prompt a 0.2 s buzz."""

    def __init__(self) -> None:
        self.frames = 10
        self.samples = (np.arange(self.frames * FRAME_SAMPLES) % 200 + 1).astype(np.int16)

    def get(self, text: str) -> Prompts:
        return self


def test_replay_puts_its_events_on_the_timeline_and_nothing_else_changes(tmp_path, write_wav):
    path = write_wav("knock.wav", knocked())
    (tmp_path / "knock.yaml").write_text(SCRIPT, encoding="utf-8")
    script = load_script(tmp_path / "knock.yaml")
    with_knocks = replay_file(
        path, script, Prompts(), CallSettings(front_end=KnockFrontEnd()), tmp_path / "a"
    )
    without = replay_file(path, script, Prompts(), CallSettings(), tmp_path / "b")
    timeline = read_timeline(tmp_path / "a" / "knock.timeline.jsonl")
    knocks = [r for r in timeline if isinstance(r, InputIgnored)]
    assert [(r.frame, r.input, r.state) for r in knocks] == [(KNOCK_FRAME, "knock", "ask")]
    assert [r for r in timeline if r not in knocks] == list(without.timeline)
    assert with_knocks.outcome == without.outcome == "no_answer"

"""Detector outputs of a call, computed once per distinct detector setting and kept on disk.

The detectors see a recording exactly as it is, whatever the dialog does (the input gain is
applied to measured levels), so their outputs — the speech events, the keys, tones and
answering-machine verdict, and the noise floor of every frame — depend only on the file and
the detector settings that change them. They are computed
over the file and then the silence that follows it up to the script's `max_call_s` (what replay
feeds), and stored under a key made of the file's content hash, the channel read, those
settings (FrontEndSettings) and a digest of the code that reads and measures audio (the
`ivr.audio` and `ivr.detect` sources): outputs kept by another version are never taken.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ivr.atomic import atomic_path
from ivr.audio.format import FRAME_SAMPLES, SILENCE_DBFS
from ivr.audio.source import FileSource
from ivr.detect.frontend import Detectors
from ivr.detect.settings import FrontEndSettings
from ivr.events import (
    InputEvent,
    KeyPressed,
    MachineVerdict,
    Segment,
    SpeechEnded,
    SpeechProgress,
    SpeechStarted,
    ToneHeard,
)

FORMAT = "ivr-detector-cache/3"
"""Part of every key: change it when the detectors or this format change."""


@dataclass(frozen=True)
class CachedCall:
    """What the detectors output for one call: events in order and the floor of every frame."""

    file: str
    frames: int
    floor_dbfs: np.ndarray
    events: tuple[InputEvent, ...]

    @cached_property
    def ordered_events(self) -> tuple[InputEvent, ...]:
        """The events by decided frame, as a call runner hands them over (ties in order)."""
        return tuple(sorted(self.events, key=lambda e: e.decided_frame))


def file_hash(path: Path) -> str:
    """SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sources_digest(folders: list[Path]) -> str:
    """SHA-256 over the names and contents of the Python files in `folders`."""
    digest = hashlib.sha256()
    for folder in folders:
        for source in sorted(folder.glob("*.py")):
            digest.update(f"{folder.name}/{source.name}\0".encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


@functools.cache
def detector_code() -> str:
    """A digest of the sources of `ivr.audio` and `ivr.detect`, which make the outputs kept,
    and of the learned stage's model (its wheel, version and model file)."""
    import ivr.audio
    import ivr.detect
    from ivr.detect.learned import model_identity

    sources = sources_digest([Path(p.__file__).parent for p in (ivr.audio, ivr.detect)])
    return hashlib.sha256(f"{sources}\0{model_identity()}".encode()).hexdigest()


def detector_part(settings: FrontEndSettings) -> dict:
    """The settings that change the detectors' outputs, by dotted name, sorted."""
    return dict(sorted(settings.as_dict().items()))


def analyze_call(
    path: Path, settings: FrontEndSettings, total_frames: int, channel: str = "mix"
) -> CachedCall:
    """Run the detectors over the file and then digital silence, `total_frames` in all.

    The silence is heard only until the detectors are at rest on it (`_at_rest`): from then on
    every frame gives the same floor and no event, so the rest is filled in."""
    detectors = Detectors(settings)
    floors, events = [], []
    for block in FileSource(path, channel=channel).blocks():
        result = detectors.process(block)
        floors.append(result.floor_dbfs)
        events += result.events
        events += result.line_events
    chunk = detectors.floor_window_frames + detectors.floor_hop_frames
    while (tail := total_frames - detectors.frames_seen) > 0:
        result = detectors.process(np.zeros((min(tail, chunk), FRAME_SAMPLES), dtype=np.int16))
        floors.append(result.floor_dbfs)
        events += result.events
        events += result.line_events
        if _at_rest(detectors, result, chunk) and tail > chunk:
            floors.append(np.full(tail - chunk, result.floor_dbfs[-1], dtype=np.float32))
            break
    events += detectors.finish()
    floor = np.concatenate(floors) if floors else np.zeros(0, np.float32)
    return CachedCall(Path(path).name, floor.shape[0], floor, tuple(events))


def _at_rest(detectors: Detectors, result, frames: int) -> bool:
    """Whether `frames` frames of digital silence just heard leave the detectors at a fixed
    point: no speech open or decided, webrtcvad silent (its hangover spent), every level at
    digital silence for a whole floor window, so the floor stays what it is."""
    return (
        result.voiced.shape[0] == frames
        and not detectors.in_speech
        and not result.events
        and not result.line_events
        and detectors.line_at_rest
        and not result.voiced.any()
        and bool((result.level_dbfs == SILENCE_DBFS).all())
        and bool((result.floor_dbfs == result.floor_dbfs[-1]).all())
    )


def _encode(events) -> str:
    rows = []
    for e in events:
        if isinstance(e, SpeechStarted):
            rows.append(["s", e.frame, e.decided_frame])
        elif isinstance(e, KeyPressed):
            rows.append(["k", e.key, e.frame, e.decided_frame])
        elif isinstance(e, ToneHeard):
            rows.append(["t", e.kind, e.frame, e.decided_frame, e.frequency_hz])
        elif isinstance(e, MachineVerdict):
            rows.append(["m", e.verdict, e.cause, e.decided_frame])
        else:
            s = e.segment
            rows.append(
                ["e" if isinstance(e, SpeechEnded) else "p", s.start, s.end, s.level_dbfs,
                 s.snr_db, s.floor_dbfs, s.voiced_frames, s.gaps, e.decided_frame,
                 s.peak_snr_db]
            )  # fmt: skip
    return json.dumps(rows)


def _decode(text: str) -> tuple:
    out = []
    for row in json.loads(text):
        if row[0] == "s":
            out.append(SpeechStarted(row[1], row[2]))
        elif row[0] == "k":
            out.append(KeyPressed(*row[1:]))
        elif row[0] == "t":
            out.append(ToneHeard(*row[1:]))
        elif row[0] == "m":
            out.append(MachineVerdict(*row[1:]))
        else:
            kind = SpeechEnded if row[0] == "e" else SpeechProgress
            out.append(kind(Segment(*row[1:8], peak_snr_db=row[9]), row[8]))
    return tuple(out)


class DetectorCache:
    """Cached detector outputs in a folder: `<key>.npz`, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def key(
        self,
        content_hash: str,
        settings: FrontEndSettings,
        total_frames: int,
        channel: str = "mix",
    ) -> str:
        """The cache key of a file's content read as `channel` under the settings, for a call
        length, by this version's detectors."""
        spec = [FORMAT, detector_code(), content_hash, channel, detector_part(settings)]
        return hashlib.sha256(json.dumps([*spec, total_frames]).encode()).hexdigest()

    def get(
        self,
        path: Path,
        settings: FrontEndSettings,
        total_frames: int,
        channel: str = "mix",
        content_hash: str | None = None,
    ) -> CachedCall:
        """The detector outputs of `path`, from disk when cached, else computed and stored."""
        key = self.key(content_hash or file_hash(path), settings, total_frames, channel)
        stored = self.directory / f"{key}.npz"
        if stored.is_file():
            try:
                with np.load(stored) as data:
                    return CachedCall(
                        Path(path).name,
                        int(data["frames"]),
                        data["floor"],
                        _decode(str(data["events"])),
                    )
            except (OSError, ValueError, KeyError):
                pass  # unreadable: computed again and replaced
        call = analyze_call(Path(path), settings, total_frames, channel)
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(stored) as tmp, open(tmp, "wb") as f:
            np.savez(f, frames=call.frames, floor=call.floor_dbfs, events=_encode(call.events))
        return call

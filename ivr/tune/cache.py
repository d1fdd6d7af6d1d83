"""Detector outputs of a call, computed once per distinct detector setting and kept on disk.

The detectors see a recording exactly as it is, whatever the dialog does (the input gain is
applied to measured levels), so their outputs — the speech events, the keys, tones and
answering-machine verdict, and the noise floor of every frame — depend only on the file and
the detector settings that change them. They are computed
over the file and then the silence that follows it up to the script's `max_call_s` (what replay
feeds), and stored under a key made of the file's content hash, the channel read, those
settings (FrontEndSettings) and a digest of the code that makes and keeps them: every `ivr`
module the front end, the file reader, the events and this module import, found from their
import statements (`detector_modules`), and the modules of any detector a settings group
adds. Outputs kept by another version are never taken. The events are kept as rows of one
codec (ivr.codec); a row of a kind it does not know is an error, never read as another.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ivr.atomic import atomic_path
from ivr.audio.format import FRAME_SAMPLES, SILENCE_DBFS
from ivr.audio.source import FileSource
from ivr.call_settings import FrontEndSettings
from ivr.codec import Codec
from ivr.detect.detector import added_detectors, added_event_classes
from ivr.detect.frontend import Detectors
from ivr.events import InputEvent, Segment

FORMAT = "ivr-detector-cache/4"
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


ROOT_MODULES = ("ivr.detect.frontend", "ivr.audio.source", "ivr.events", __name__)
"""The modules whose code makes the outputs kept (with all they import from `ivr`)."""


def detector_modules(roots: tuple[str, ...] = ROOT_MODULES) -> list[str]:
    """`roots` and every `ivr` module they import, directly or not (also inside functions),
    with the packages they are in, sorted: read from their import statements."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if _source(name) is None:
            continue  # a namespace package: no code of its own
        parts = name.split(".")
        todo += [".".join(parts[:n]) for n in range(1, len(parts)) if parts[0] == "ivr"]
        todo += _imported(name)
    return sorted(seen)


def _imported(name: str) -> list[str]:
    """The `ivr` modules (and packages) that module `name` imports (none for a compiled
    module, ivr.detect._kernels: its digest is its built file's)."""
    path = _source(name)
    if path.suffix != ".py":
        return []
    tree = ast.parse(path.read_bytes(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names]
    return [m for m in found if m.split(".")[0] == "ivr" and _is_module(m)]


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False  # `from ivr.x import name`: a name, not a module


def _source(name: str) -> Path | None:
    """The source file of module `name`; None for a namespace package."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None)
    if origin is None:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None and spec.has_location else None
    return Path(origin) if origin is not None else None


def sources_digest(modules: list[str]) -> str:
    """SHA-256 over the names and sources of `modules`."""
    digest = hashlib.sha256()
    for name in modules:
        source = _source(name)
        digest.update(f"{name}\0".encode())
        digest.update(source.read_bytes() if source is not None else b"")
    return digest.hexdigest()


@functools.cache
def detector_code(added: tuple[str, ...] = ()) -> str:
    """A digest of the code that makes and keeps the outputs (`detector_modules`, with the
    modules of the `added` detectors), and of the learned stage's model (its wheel, version
    and model file)."""
    from ivr.detect.learned import model_identity

    sources = sources_digest(detector_modules((*ROOT_MODULES, *added)))
    return hashlib.sha256(f"{sources}\0{model_identity()}".encode()).hexdigest()


def event_codec(settings: FrontEndSettings) -> Codec:
    """The codec of the events kept under `settings`: ivr.events' and the added detectors'."""
    return Codec((*InputEvent.__args__, Segment, *added_event_classes(settings)))


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


def _encode(events, codec: Codec) -> str:
    return json.dumps([codec.encode(e) for e in events])


def _decode(text: str, codec: Codec) -> tuple:
    return tuple(codec.decode(row) for row in json.loads(text))


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
        added = tuple(type(group).detector.__module__ for group in added_detectors(settings))
        spec = [FORMAT, detector_code(added), content_hash, channel, detector_part(settings)]
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
                        _decode(str(data["events"]), event_codec(settings)),
                    )
            except (OSError, ValueError, KeyError):
                pass  # unreadable: computed again and replaced
        call = analyze_call(Path(path), settings, total_frames, channel)
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(stored) as tmp, open(tmp, "wb") as f:
            np.savez(
                f,
                frames=call.frames,
                floor=call.floor_dbfs,
                events=_encode(call.events, event_codec(settings)),
            )
        return call

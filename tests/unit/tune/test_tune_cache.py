"""The tuning cache of detector outputs: only ever the outputs of this file, read this way,
under these settings, by these detectors."""

from pathlib import Path

import numpy as np
import pytest
from shared import human_speech

from ivr.call_settings import CallSettings
from ivr.codec import CodecError
from ivr.events import SpeechStarted
from ivr.tune import cache as cache_module
from ivr.tune.cache import DetectorCache

FRAMES = 400  # 8 s: the file and the silence after it


def speech_file(write_wav, stereo: bool = False):
    """A real utterance after 1 s of silence; stereo: on the left only, the right silent."""
    speech = human_speech(3)
    mono = np.concatenate([np.zeros(16000, np.int16), speech, np.zeros(8000, np.int16)])
    if not stereo:
        return write_wav("call.wav", mono)
    return write_wav("stereo.wav", np.stack([mono, np.zeros_like(mono)], axis=1))


def starts(call) -> list[SpeechStarted]:
    return [e for e in call.events if isinstance(e, SpeechStarted)]


def test_each_side_of_a_stereo_recording_has_its_own_outputs(tmp_path, write_wav):
    path = speech_file(write_wav, stereo=True)
    cache = DetectorCache(tmp_path / "cache")
    settings = CallSettings().front_end
    left = cache.get(path, settings, FRAMES, channel="left")
    right = cache.get(path, settings, FRAMES, channel="right")
    assert starts(left) and not starts(right)  # the callee's side, not the other's
    assert starts(cache.get(path, settings, FRAMES, channel="left")) == starts(left)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


def test_outputs_kept_by_other_detector_code_are_not_taken(tmp_path, write_wav, monkeypatch):
    path = speech_file(write_wav)
    cache = DetectorCache(tmp_path / "cache")
    settings = CallSettings().front_end
    heard = cache.get(path, settings, FRAMES)
    assert starts(heard)
    # what another version of the detectors kept for the same file: nothing heard
    [kept] = (tmp_path / "cache").glob("*.npz")
    with open(kept, "wb") as f:
        np.savez(f, frames=heard.frames, floor=heard.floor_dbfs, events="[]")
    assert cache.get(path, settings, FRAMES).events == ()  # taken while the code is the same
    monkeypatch.setattr(cache_module, "detector_code", lambda added=(): "another version")
    assert cache.get(path, settings, FRAMES).events == heard.events


def test_the_code_digest_changes_with_any_detector_source(tmp_path, monkeypatch):
    modules = cache_module.detector_modules()
    before = cache_module.sources_digest(modules)
    onset = tmp_path / "onset.py"
    text = Path(cache_module._source("ivr.detect.onset")).read_text()
    assert "ONSET_VOICED_FRAMES = 2" in text
    onset.write_text(text.replace("ONSET_VOICED_FRAMES = 2", "ONSET_VOICED_FRAMES = 3"))
    source = cache_module._source
    monkeypatch.setattr(
        cache_module, "_source", lambda name: onset if name == "ivr.detect.onset" else source(name)
    )
    changed = cache_module.sources_digest(modules)
    assert changed != before
    gone = [name for name in modules if name != "ivr.detect.onset"]  # a module gone
    assert cache_module.sources_digest(gone) not in (before, changed)


def test_the_code_digest_covers_every_module_the_outputs_come_from():
    """The events (their classes and their codec) and the cache's own format are covered, not
    only the detectors: every `ivr` module loaded to compute, keep and read outputs."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from ivr.tune.cache import Detectors, _decode, _encode, event_codec\n"
        "d = Detectors()\n"
        "d.process(np.zeros((200, 320), np.int16)); d.finish()\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] == 'ivr'))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    covered = set(cache_module.detector_modules())
    assert {"ivr.events", "ivr.codec", "ivr.tune.cache", "ivr.call_settings"} <= covered
    assert set(loaded) - covered == set()


def test_a_kept_row_of_an_unknown_kind_is_an_error_not_another_event():
    codec = cache_module.event_codec(CallSettings().front_end)
    row = codec.encode(SpeechStarted(3, 8))
    assert row == ["speech_started", 3, 8]
    assert codec.decode(row) == SpeechStarted(3, 8)
    with pytest.raises(CodecError, match="unknown kind 'x'"):
        codec.decode(["x", 3, 8])
    with pytest.raises(CodecError, match="with 1 values, not 2"):
        codec.decode(["speech_started", 3])

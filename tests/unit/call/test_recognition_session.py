"""The session side of recognition: the audio ring and reference transcripts."""

import numpy as np
import pytest

from ivr.call.recognition import AudioRing, ReferenceBackend, reference_transcripts
from ivr.errors import IvrError


def frames(base, n):
    """Frames whose samples carry their own frame number, to check addressing."""
    return np.repeat(np.arange(base, base + n, dtype=np.int16)[:, None], 320, axis=1)


def test_ring_addresses_frames_across_blocks_and_forgets_old_ones():
    ring = AudioRing(keep_frames=30)
    for base in range(0, 200, 20):
        ring.add(base, frames(base, 20))
    assert ring.end == 200
    got = ring.get(165, 185)
    assert got[:, 0].tolist() == list(range(165, 185))
    assert ring.start >= 200 - 20 - 30 - 20
    assert ring.get(0, 10).shape == (0, 320)  # forgotten


def test_reference_backend_takes_text_of_overlapping_segments():
    backend = ReferenceBackend([(1.0, 1.6, "是的,我是"), (5.0, 5.5, "不是")])
    intents = {"confirm": ["是的 我 是", "是"], "deny": ["不是"]}
    utterance = backend.start(45, intents)  # from 0.9 s
    utterance.accept(np.zeros((40, 320), np.int16))  # to 1.7 s
    result = utterance.finish()
    assert (result.text, result.intent, result.rejected) == ("是的,我是", "confirm", False)
    silent = backend.start(150, intents)
    silent.accept(np.zeros((20, 320), np.int16))
    result = silent.finish()
    assert (result.text, result.intent, result.rejected) == ("", None, True)


def test_reference_transcripts_from_a_manifest(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "calls:\n- file: a.wav\n  speech:\n  - {start_s: 1.0, end_s: 2.0, text: 不是}\n",
        encoding="utf-8",
    )
    assert reference_transcripts(manifest) == {"a.wav": [(1.0, 2.0, "不是")]}
    manifest.write_text("calls:\n- file: a.wav\n  speech:\n  - {start_s: 1.0}\n")
    with pytest.raises(IvrError, match=r"calls\[0\]\.speech\[0\]: needs start_s, end_s and text"):
        reference_transcripts(manifest)

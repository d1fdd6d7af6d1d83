"""Hand-written and generated manifests read once (ivr.corpus.labels): each reader takes
the parts it needs, a part of the wrong shape fails only the reader that needs it."""

import pytest
from shared import text_writer

from ivr.call.expect import load_expectations
from ivr.call.recognition import reference_transcripts
from ivr.corpus.labels import CallExpectation, ExpectedEvent, LabelledSpeech, load_labels
from ivr.corpus.manifest import ManifestError
from ivr.tune.metrics import labels_from_manifest

HAND_WRITTEN = """\
calls:
- file: calls/a.wav
  speech: [{start_s: 1.0, end_s: 2.0, text: 不是}, {start_s: 3, end_s: 4}]
  expect:
    outcome: answered
    tolerance_s: 0.1
    events:
    - {event: prompt_started, prompt: hello, t: 0}
    - {event: output_volume, db: 6}
- file: b.wav
  expect: {outcome: no_answer}
"""

write = text_writer("manifest.yaml")


def test_every_reader_takes_its_part(tmp_path):
    path = write(tmp_path, HAND_WRITTEN)
    a, b = load_labels(path)
    assert a.name == "a.wav" and a.file == "calls/a.wav" and a.outcome == "answered"
    assert a.speech == (LabelledSpeech(1.0, 2.0, "不是"), LabelledSpeech(3.0, 4.0))
    assert b.speech is None and b.problems == ()
    assert load_expectations(path)["a.wav"] == CallExpectation(
        "calls/a.wav",
        "answered",
        (ExpectedEvent("prompt_started", 0.0, (("prompt", "hello"),)),
         ExpectedEvent("output_volume", None, (("db", 6),))),
        0.1,
    )  # fmt: skip
    assert reference_transcripts(path) == {
        "a.wav": [(1.0, 2.0, "不是"), (3.0, 4.0, "")],
        "b.wav": [],
    }
    labels = labels_from_manifest(path)
    assert labels["a.wav"].speech == ((1.0, 2.0), (3.0, 4.0))
    assert not labels["b.wav"].speech_labelled


def test_a_bad_part_fails_only_the_reader_that_needs_it(tmp_path):
    path = write(
        tmp_path,
        "calls:\n- file: a.wav\n  speech: [{start_s: 1}]\n"
        "  expect: {outcome: answered, tolerance_s: -1}\n",
    )
    assert labels_from_manifest(path)["a.wav"].speech == ()
    with pytest.raises(ManifestError, match=r"manifest\.yaml: calls\[0\]\.expect\.tolerance_s"):
        load_expectations(path)
    with pytest.raises(ManifestError, match=r"calls\[0\]\.speech\[0\]: needs start_s, end_s"):
        reference_transcripts(path)


def test_entries_without_a_file_and_broken_files(tmp_path):
    path = write(tmp_path, "calls:\n- {expect: {outcome: answered}}\n")
    assert labels_from_manifest(path) == {}
    with pytest.raises(ManifestError, match=r"calls\[0\]: needs a `file:` name"):
        load_expectations(path)
    with pytest.raises(ManifestError, match="calls: expected a list of calls"):
        load_labels(write(tmp_path, "version: 1\n"))
    with pytest.raises(ManifestError, match=r"manifest\.yaml: not valid YAML at line"):
        reference_transcripts(write(tmp_path, "calls: [a\n"))
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load_expectations(tmp_path / "missing.yaml")

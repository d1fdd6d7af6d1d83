"""Replay of recorded calls through both documented scripts: every path, timed to the frame.

Calls are generated for each script (real espeak-ng speech, real recordings, real WAV files),
with the callee answering at times relative to the script's prompts; replay runs them through
the real detectors and engine, and the timelines are checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from shared import OUTBOUND_VALUES as VALUES
from shared import frames_of, ivr, script_frames

from ivr.call.expect import check_call, load_expectations
from ivr.call.recognition import ReferenceBackend, reference_transcripts
from ivr.call.replay import replay_file
from ivr.call_settings import CallSettings
from ivr.qa.phrases import load_forbidden
from ivr.qa.score import QaSettings, score_call
from ivr.script import load_script
from ivr.synth.corpus import write_corpus
from ivr.synth.script_calls import script_call_specs
from ivr.timeline import read_timeline
from ivr.tts.prompt_cache import PromptCache


class Corpus:
    def __init__(self, name: str, folder: Path, cache: PromptCache):
        self.script = load_script(name, VALUES)
        self.cache = cache
        self.frames = script_frames(self.script, cache)
        pairs = script_call_specs(self.script, self.frames.__getitem__, seed=7)
        extra = {spec.name: e for spec, e in pairs}
        self.manifest = write_corpus([s for s, _ in pairs], folder, 7, expect_extra=extra)
        self.expect = load_expectations(self.manifest)
        self.out = folder / "out"
        self.results = {
            spec.file: replay_file(folder / spec.file, self.script, cache, None, self.out)
            for spec, _ in pairs
        }
        transcripts = reference_transcripts(self.manifest)
        self.referenced = {
            spec.file: replay_file(
                folder / spec.file,
                self.script,
                cache,
                asr=ReferenceBackend(transcripts[spec.file]),
            )
            for spec, _ in pairs
        }

    def result(self, situation_channel: str):
        [name] = [f for f in self.results if situation_channel in f]
        return self.results[name]


@pytest.fixture(scope="module")
def cache() -> PromptCache:
    return PromptCache()  # the run's shared cache ($IVR_CACHE_DIR, tests/conftest.py)


@pytest.fixture(scope="module")
def outbound(tmp_path_factory, cache) -> Corpus:
    return Corpus("outbound", tmp_path_factory.mktemp("outbound"), cache)


@pytest.fixture(scope="module")
def inbound(tmp_path_factory, cache) -> Corpus:
    return Corpus("inbound", tmp_path_factory.mktemp("inbound"), cache)


@pytest.mark.parametrize("corpus_name", ["outbound", "inbound"])
def test_every_path_of_the_script_reaches_its_outcome(request, corpus_name):
    """Detector-only: every call whose outcome does not depend on what was said."""
    corpus = request.getfixturevalue(corpus_name)
    outcomes = set()
    for file, result in corpus.results.items():
        if corpus.expect[file].needs_recognition:
            continue
        assert check_call(corpus.expect[file], result.outcome, result.timeline) == [], file
        outcomes.add(result.outcome)
    assert outcomes == {"answered", "no_answer", "low_volume", "noisy_line", "choppy_line"}


@pytest.mark.parametrize("corpus_name", ["outbound", "inbound"])
def test_every_intent_branch_with_reference_transcripts(request, corpus_name):
    """With the manifest's transcripts as recognition, every call, intents included."""
    corpus = request.getfixturevalue(corpus_name)
    for file, result in corpus.referenced.items():
        assert check_call(corpus.expect[file], result.outcome, result.timeline) == [], file
    outcomes = {r.outcome for r in corpus.referenced.values()}
    expected = {"answered", "no_answer", "low_volume", "noisy_line", "choppy_line", "nomatch"}
    if corpus_name == "outbound":
        expected |= {"wrong_person"}
    assert expected <= outcomes


def test_outbound_intent_branches_say_the_documented_prompts(outbound):
    deny = outbound.referenced[next(f for f in outbound.referenced if "_deny" in f)]
    assert deny.outcome == "wrong_person"
    assert deny.prompts == ["opening", deny.prompts[-1]]
    hear = outbound.referenced[next(f for f in outbound.referenced if "cannot_hear" in f)]
    volume = [r.db for r in hear.timeline if r.event == "output_volume"]
    assert volume == [6.0]
    assert outbound.script.prompts[hear.prompts[1]] == "请问能听到这边说话吗?"
    assert hear.outcome == "answered"
    nomatch = outbound.referenced[next(f for f in outbound.referenced if "_nomatch" in f)]
    assert (
        outbound.script.prompts[nomatch.prompts[1]]
        == "对不起,我没听清楚您的讲话,您能再重复一遍吗?谢谢!"
    )
    assert nomatch.outcome == "nomatch"
    heard = [r for r in nomatch.timeline if r.event == "recognized"]
    assert heard and all(r.rejected for r in heard)


def test_silent_outbound_call_is_timed_to_the_frame(outbound):
    result = outbound.result("never_answers_clean")
    starts = frames_of(result, "prompt_started")
    ends = frames_of(result, "prompt_finished")
    prompts = [r.prompt for r in result.timeline if r.event == "prompt_started"]
    assert prompts == ["opening", "hello_again", "connected", "closing_no_sound"]
    # each prompt's playout takes exactly its rendered length
    assert [e - s for s, e in zip(starts, ends, strict=True)] == [
        outbound.frames[p] for p in prompts
    ]
    # re-prompt 3.00 s (150 frames) after the previous prompt's last sample, twice, then the
    # closing; the hang-up 2.00 s (100 frames) after the closing's last sample
    assert starts[1] - ends[0] == 150
    assert starts[2] - ends[1] == 150
    assert starts[3] - ends[2] == 150
    assert result.frames - ends[3] == 100
    assert result.outcome == "no_answer"


def test_silent_inbound_call_waits_5_s_5_s_then_closing_and_5_s(inbound):
    result = inbound.result("never_answers_clean")
    starts = frames_of(result, "prompt_started")
    ends = frames_of(result, "prompt_finished")
    assert len(starts) == 3
    assert starts[1] - ends[0] == 250
    assert starts[2] - ends[1] == 250
    assert result.frames - ends[2] == 250
    assert result.outcome == "no_answer"


@pytest.mark.parametrize("channel", ["clean", "telephone"])
def test_silent_call_timing_holds_on_both_channels(outbound, inbound, channel):
    for corpus, gap in ((outbound, 150), (inbound, 250)):
        result = corpus.result(f"never_answers_{channel}")
        starts, ends = frames_of(result, "prompt_started"), frames_of(result, "prompt_finished")
        assert all(s - e == gap for s, e in zip(starts[1:], ends, strict=False))


def test_answer_2_5_s_after_the_opening_is_heard_without_reprompt(outbound):
    result = outbound.result("answers_late_telephone")  # speaks 2.5 s after the opening
    assert result.prompts == ["opening", "thanks_goodbye"]
    assert result.outcome == "answered"
    [listen] = frames_of(result, "listen_started")
    [heard] = [r for r in result.timeline if r.event == "speech_started"]
    assert heard.speech_start_s * 50 - listen == pytest.approx(125, abs=3)  # 2.5 s, +-60 ms


def test_answer_3_5_s_after_the_opening_gets_the_reprompt_then_is_heard(outbound):
    result = outbound.result("answers_late_clean")
    assert result.prompts == ["opening", "hello_again", "thanks_goodbye"]
    assert frames_of(result, "speech_ignored")  # the answer during the re-prompt
    starts = frames_of(result, "prompt_started")
    ends = frames_of(result, "prompt_finished")
    assert starts[1] - ends[0] == 150
    assert result.outcome == "answered"


def test_replaying_twice_gives_byte_identical_timelines_and_recordings(outbound, tmp_path):
    file = next(f for f in outbound.results if "too_quiet" in f)
    folder = Path(outbound.manifest).parent
    again = replay_file(folder / file, outbound.script, outbound.cache, None, tmp_path)
    stem = Path(file).stem
    for suffix in (".timeline.jsonl", ".call.wav"):
        first = (outbound.out / f"{stem}{suffix}").read_bytes()
        assert (tmp_path / f"{stem}{suffix}").read_bytes() == first, suffix
    assert again.timeline == outbound.results[file].timeline


def test_recording_has_our_prompts_left_and_the_callee_right(outbound):
    file = next(f for f in outbound.results if "answers_at_once_clean" in f)
    result = outbound.results[file]
    stereo, rate = sf.read(outbound.out / f"{Path(file).stem}.call.wav", dtype="int16")
    assert rate == 16000 and stereo.shape[1] == 2
    assert stereo.shape[0] == result.frames * 320
    callee, _ = sf.read(Path(outbound.manifest).parent / file, dtype="int16")
    n = min(len(callee), stereo.shape[0])
    assert np.array_equal(stereo[:n, 1], callee[:n])
    opening = outbound.cache.get(outbound.script.prompts["opening"]).samples
    assert np.array_equal(stereo[: len(opening), 0], opening)
    [thanks] = frames_of(result, "prompt_started", prompt="thanks_goodbye")
    gap = stereo[(thanks - 10) * 320 : thanks * 320, 0]
    assert not gap.any()  # we are silent while listening


def test_timeline_is_json_lines_with_detector_values(outbound):
    file = next(f for f in outbound.results if "answers_at_once_clean" in f)
    lines = (outbound.out / f"{Path(file).stem}.timeline.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0]["event"] == "call_started" and records[-1]["event"] == "hangup"
    assert all({"t", "frame", "event"} <= set(r) for r in records)
    assert [r["frame"] for r in records] == sorted(r["frame"] for r in records)
    vad = [r for r in records if r["event"] == "vad_end"]
    assert vad and {"level_dbfs", "snr_db", "floor_dbfs"} <= set(vad[0])
    path = outbound.out / f"{Path(file).stem}.timeline.jsonl"
    assert read_timeline(path) == outbound.results[file].timeline  # read back as it was


def test_qa_judges_the_callee_by_the_engines_own_hearing(outbound):
    """Each segment says how the engine hears it alone. On the noisy line (`make demo`'s call 7)
    the line noise is `noise` to the engine: the closing said over it is not talking over the
    callee. On a clean answer the callee's words are `speech`."""
    script = outbound.script
    noisy = outbound.result("noisy_line_telephone").timeline
    assert {r.heard_as for r in noisy if r.event in ("vad_end", "vad_open")} == {"noise"}
    qa = score_call(noisy, script.templates, load_forbidden(), QaSettings.for_script(script))
    assert qa.items["no_talking_over"] is not False
    assert qa.items["no_hangup_while_speaking"] is True
    clean = outbound.result("answers_at_once_clean").timeline
    assert {r.heard_as for r in clean if r.event == "vad_end"} == {"speech"}


def test_replay_cli_batch_with_a_broken_file_and_parallel_jobs(outbound, tmp_path):
    folder = Path(outbound.manifest).parent
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio")
    files = sorted(str(p) for p in folder.glob("*.wav"))[:4]
    args = ["replay", *files, str(broken), "--script", "outbound"]
    args += ["--agent-id", "1001", "--number", "13812345678", "--expect", str(outbound.manifest)]
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        done = ivr(*args, "-j", jobs, "--out", str(out), timeout=300)
        assert done.returncode == 1  # the broken file fails, the others still run
        assert "Traceback" not in done.stdout + done.stderr
        assert f"error: {broken}: not audio" in done.stdout
        table = "\n".join(
            line for line in done.stdout.splitlines() if not line.startswith("expected outcomes:")
        )  # the rows, not the count below them
        assert table.count("pass") + table.count("skip") == 4
        assert "13812345678" not in done.stdout  # numbers are masked
        runs[jobs] = sorted(p.name for p in out.iterdir())
        assert len(runs[jobs]) == 8  # a recording and a timeline per good call
    assert runs["1"] == runs["2"]


def test_detector_settings_change_the_call(outbound):
    """A config that makes every callee too quiet turns an answer into the low-volume path."""
    file = next(f for f in outbound.results if "answers_at_once_clean" in f)
    strict = CallSettings().with_overrides({"low_volume_dbfs": -1.0})
    folder = Path(outbound.manifest).parent
    result = replay_file(folder / file, outbound.script, outbound.cache, strict)
    events = [r.event for r in result.timeline]
    assert "low_volume" in events and "speech" not in events
    assert next(r.db for r in result.timeline if r.event == "input_gain") == 6.0
    assert result.outcome != "answered"


@pytest.mark.parametrize("block_frames", [3, 50, 2000])
def test_a_call_comes_out_the_same_whatever_the_block_size(tmp_path, block_frames):
    """Blocks are only how the audio is read: listening stops at a hang-up that is certain,
    and the timeline is the same, frame for frame, as when every frame is its own block."""
    from realcall import READER, at_level, bundled, line, opening_frames, place, read, write

    from ivr.audio import FileSource
    from ivr.call.replay import replay_call, run_replay

    start = opening_frames("outbound") + 60
    audio = place(line(60.0), at_level(read(READER[1]), -28.0), start)
    path = write(tmp_path / "call.wav", audio)
    runs = []
    for frames in (1, block_frames):
        session = replay_call(
            FileSource(path, block_frames=frames), bundled("outbound"), PromptCache()
        )
        runs.append(run_replay(session, tmp_path / f"{frames}.wav"))
    assert runs[0].timeline == runs[1].timeline and runs[0].outcome == "answered"
    one, many = (sf.read(tmp_path / f"{f}.wav", dtype="int16")[0] for f in (1, block_frames))
    assert np.array_equal(one, many)

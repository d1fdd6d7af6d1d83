"""Tuning metrics and reports on hand-built timelines and tables (no audio); what the labels
cannot tell (n/a) is in test_tune_na.py."""

from __future__ import annotations

import csv
import dataclasses
import struct
import zlib

import pytest
import yaml
from handmade import record
from rich.console import Console

from ivr.corpus.manifest import ManifestError
from ivr.timeline import TimelineRecord
from ivr.tune.metrics import (
    CallLabel,
    CallMetrics,
    CallRun,
    Summary,
    call_metrics,
    labels_from_manifest,
    summarize,
)
from ivr.tune.report import (
    SUMMARY_FIELDS,
    overlay_yaml,
    pareto_front,
    plot_png,
    recommend,
    results_table,
    write_csv,
)


def rec(t: float, event: str, state: str = "opening", **details) -> TimelineRecord:
    """A timeline record at time t (s), in the opening state unless `state` is given."""
    return record(t, event, state, **details)


def opening(reprompt_t: float = 18.12) -> list[TimelineRecord]:
    """The opening prompt, then no input and a re-prompt at `reprompt_t`."""
    return [
        rec(0.0, "call_started", script="outbound"),
        rec(0.0, "state_entered"),
        rec(0.0, "prompt_started", prompt="opening"),
        rec(reprompt_t - 3.0, "prompt_finished"),
        rec(reprompt_t - 3.0, "listen_started", deadline_s=reprompt_t),
        rec(reprompt_t, "noinput", count=1, floor_dbfs=-67.0),
        rec(reprompt_t, "prompt_started", prompt="hello_again"),
        rec(reprompt_t + 2.92, "prompt_finished"),
        rec(reprompt_t + 2.92, "listen_started", deadline_s=reprompt_t + 5.92),
    ]


def answered(speech_end: float, answer_t: float) -> list[TimelineRecord]:
    """The callee's answer ending at `speech_end`, our thanks at `answer_t`, hang-up 6.58 s on."""
    return [
        rec(speech_end - 0.7, "speech_started", speech_start_s=speech_end - 0.9),
        rec(speech_end + 0.4, "speech_ended", speech_end_s=speech_end),
        rec(answer_t, "confirm", count=1, pieces=1),
        rec(answer_t, "state_entered"),
        rec(answer_t, "prompt_started", prompt="thanks_goodbye"),
        rec(answer_t + 4.58, "prompt_finished"),
        rec(answer_t + 4.58, "pause_started", seconds=2.0),
        rec(answer_t + 6.58, "pause_finished"),
        rec(answer_t + 6.58, "hangup", outcome="answered", reason="confirm #1 in opening"),
    ]


def run_of(timeline: list[TimelineRecord], outcome: str, file: str = "call.wav") -> CallRun:
    hangup = next(r for r in timeline if r.event == "hangup")
    return CallRun(file, outcome, hangup.frame, tuple(timeline))


def label(situation: str, speech=(), outcome=None) -> CallLabel:
    return CallLabel("call.wav", situation, outcome, tuple(speech))


def test_reprompt_just_before_an_answer_is_premature() -> None:
    """The re-prompt at 18.12 s talks over speech starting 0.5 s later; the answer ends at 22.72
    s and our thanks start at 23.52 s."""
    run = run_of(opening() + answered(22.72, 23.52), "answered")
    m = call_metrics(run, label("answers_late", [(18.62, 18.86), (21.84, 22.72)]))
    assert m.premature_reprompts == 1
    assert m.correct and not m.premature_hangup
    assert m.response_s == (pytest.approx(0.8),)
    assert m.dead_line_s is None and not m.missed_quiet and not m.noise_as_answer


def test_reprompt_well_before_an_answer_is_not_premature() -> None:
    run = run_of(opening(15.12) + answered(19.0, 19.8), "answered")
    m = call_metrics(run, label("answers_late", [(18.12, 19.0)]))  # 3 s after the re-prompt
    assert m.premature_reprompts == 0
    assert call_metrics(run, label("answers_late", [(18.12, 19.0)]), 3.5).premature_reprompts == 1


def test_speech_just_before_the_reprompt_still_counts_but_not_earlier() -> None:
    run = run_of(opening() + answered(22.72, 23.52), "answered")
    assert call_metrics(run, label("answers_late", [(18.05, 18.5)])).premature_reprompts == 1
    assert call_metrics(run, label("answers_late", [(17.9, 18.0)])).premature_reprompts == 0


def test_only_timer_driven_prompts_are_reprompts() -> None:
    """A prompt after a nomatch, or a noinput whose prompt comes later, is no re-prompt."""
    timeline = [
        rec(0.0, "prompt_started", prompt="opening"),
        rec(5.0, "nomatch", count=1),
        rec(5.0, "prompt_started", prompt="pardon"),
        rec(9.0, "noinput", count=1),
        rec(9.0, "pause_started", seconds=1.0),
        rec(10.0, "pause_finished"),
        rec(10.0, "prompt_started", prompt="hello_again"),
        rec(12.0, "hangup", outcome="nomatch"),
    ]
    m = call_metrics(
        run_of(timeline, "nomatch"), label("answers_at_once", [(5.5, 6.0), (10.5, 11)])
    )
    assert m.premature_reprompts == 0
    assert m.response_s == ()  # a nomatch is not an answer


def test_hangup_before_labelled_speech_is_premature() -> None:
    timeline = [*opening(15.12)[:-2], rec(20.0, "hangup", outcome="no_answer")]
    run = run_of(timeline, "no_answer")
    late = label("answers_late", [(21.0, 22.0)], outcome="answered")
    m = call_metrics(run, late)
    assert m.premature_hangup and not m.correct
    assert not call_metrics(run, label("answers_late", [(12.0, 13.0)])).premature_hangup
    assert not call_metrics(run, label("never_answers")).premature_hangup


def test_hangup_time_falls_back_to_the_hangup_frame() -> None:
    run = CallRun("call.wav", "no_answer", 1000, (rec(0.0, "prompt_started", prompt="opening"),))
    m = call_metrics(run, label("never_answers"))
    assert m.dead_line_s == pytest.approx(20.0)
    assert call_metrics(run, label("answers_late", [(20.5, 21.0)])).premature_hangup


def test_missed_quiet_callee() -> None:
    quiet = label("too_quiet", [(16.0, 17.0)])
    silent = [rec(0.0, "prompt_started"), rec(30.0, "noinput", count=3), rec(40.0, "hangup")]
    heard = [rec(0.0, "prompt_started"), rec(17.4, "low_volume", count=1), rec(40.0, "hangup")]
    assert call_metrics(run_of(silent, "no_answer"), quiet).missed_quiet
    m = call_metrics(run_of(heard, "low_volume"), quiet)
    assert not m.missed_quiet and m.correct  # outcome derived from the situation
    assert not call_metrics(run_of(silent, "no_answer"), label("never_answers")).missed_quiet


def test_noise_as_answer() -> None:
    timeline = [rec(0.0, "prompt_started"), rec(20.0, "hangup", outcome="answered")]
    assert call_metrics(run_of(timeline, "answered"), label("noisy_line")).noise_as_answer
    assert not call_metrics(run_of(timeline, "noisy_line"), label("noisy_line")).noise_as_answer
    assert not call_metrics(run_of(timeline, "answered"), label("answers_at_once")).noise_as_answer


def test_dead_line_seconds() -> None:
    timeline = [rec(0.0, "prompt_started"), rec(41.98, "hangup", outcome="no_answer")]
    m = call_metrics(run_of(timeline, "no_answer"), label("never_answers"))
    assert m.dead_line_s == pytest.approx(41.98) and m.correct
    assert call_metrics(run_of(timeline, "no_answer"), label("answers_late")).dead_line_s is None


def test_response_time_per_answering_prompt() -> None:
    """Speech, then an intent: one response each, from the last labelled speech before it."""
    timeline = [
        rec(0.0, "prompt_started", prompt="opening"),
        rec(16.0, "listen_started"),
        rec(17.8, "cannot_hear", count=1),
        rec(17.8, "output_volume", db=6),
        rec(17.8, "prompt_started", prompt="can_you_hear_me"),
        rec(19.6, "listen_started"),
        rec(21.5, "speech", count=1),
        rec(21.5, "state_entered", state="answered"),
        rec(21.5, "prompt_started", prompt="thanks_goodbye"),
        rec(26.0, "prompt_finished"),
        rec(26.0, "prompt_started", prompt="another"),  # no answer to anything
        rec(28.0, "hangup", outcome="answered"),
    ]
    speech = [(16.5, 17.0), (20.0, 20.3), (20.4, 20.7)]
    m = call_metrics(run_of(timeline, "answered"), label("answers_at_once", speech))
    assert m.response_s == (pytest.approx(0.8), pytest.approx(0.8))


def metrics(**changes) -> CallMetrics:
    """A call's metrics: right, no premature prompt, not quiet, not noisy (changes on top)."""
    base = CallMetrics(True, 0, False, None, None, None, (), "answers_at_once")
    return dataclasses.replace(base, **changes)


def test_summarize_arithmetic() -> None:
    calls = [
        metrics(premature_reprompts=2, response_s=(0.8, 1.2)),
        metrics(correct=False, premature_hangup=True, situation="answers_late"),
        metrics(situation="never_answers", dead_line_s=40.0),
        metrics(correct=False, situation="never_answers", dead_line_s=30.0, premature_reprompts=1),
        metrics(correct=False, situation="too_quiet", missed_quiet=True),
        metrics(situation="too_quiet", missed_quiet=False, response_s=(2.0,)),
        metrics(situation="noisy_line", noise_as_answer=False),
        metrics(correct=False, situation="noisy_line", noise_as_answer=True),
    ]
    s = summarize(calls)
    assert s.calls == 8
    assert s.accuracy == pytest.approx(4 / 8)
    assert s.premature_reprompt_rate == pytest.approx(2 / 8)
    assert s.premature_hangup_rate == pytest.approx(1 / 8)
    assert s.missed_quiet_rate == pytest.approx(1 / 2)
    assert s.noise_as_answer_rate == pytest.approx(1 / 2)
    assert s.dead_line_s == pytest.approx(35.0)
    assert s.response_s == pytest.approx(4.0 / 3)
    assert s.cost_s == pytest.approx(35.0 + 4.0 / 3)


def row(accuracy: float, cost: float, **params) -> dict:
    s = Summary(accuracy, 0.1, 0.2, 0.0, 0.0, cost / 2, cost / 2, cost, 10)
    return {**params, **dataclasses.asdict(s)}


def test_pareto_front_excludes_dominated_rows_and_keeps_ties() -> None:
    rows = [
        row(0.9, 5.0),  # 0: front
        row(0.8, 6.0),  # 1: dominated by 0
        row(0.7, 2.0),  # 2: front
        row(0.9, 5.0),  # 3: tie with 0: front
        row(0.9, 7.0),  # 4: as accurate as 0, costlier: dominated
        row(1.0, 9.0),  # 5: front
        row(0.7, 3.0),  # 6: as accurate as 2, costlier: dominated
        row(0.6, 2.0),  # 7: as cheap as 2, less accurate: dominated
    ]
    assert pareto_front(rows) == [2, 0, 3, 5]
    assert pareto_front([]) == []
    assert pareto_front([{"a": 1, "c": 2}], accuracy="a", cost="c") == [0]


def test_recommend_breaks_ties_by_cost_then_parameters() -> None:
    params = ["noinput", "vad.aggressiveness"]
    rows = [
        row(0.8, 1.0, noinput=2.0, **{"vad.aggressiveness": 0}),
        row(0.9, 4.0, noinput=4.0, **{"vad.aggressiveness": 3}),
        row(0.9, 3.0, noinput=3.5, **{"vad.aggressiveness": 2}),
        row(0.9, 3.0, noinput=3.0, **{"vad.aggressiveness": 3}),
        row(0.9, 3.0, noinput=3.0, **{"vad.aggressiveness": 1}),
        row(0.9, 3.0, noinput=3.0, **{"vad.aggressiveness": 1}),
    ]
    assert recommend(rows, params) == 4
    assert recommend(rows[:3], params) == 2
    with pytest.raises(ValueError):
        recommend([], params)


def test_overlay_yaml_round_trip() -> None:
    setting = row(
        0.95,
        3.25,
        noinput=3.5000000000000004,
        end_of_speech=0.8,
        low_volume_dbfs=-45.0,
        **{"vad.aggressiveness": 2.0, "noise.percentile": 15.0},
    )
    text = overlay_yaml(setting, ["noinput", "end_of_speech", "max_speech"])
    assert text.startswith("#") and "ivr tune" in text.splitlines()[0]
    assert "95.0%" in text and "3.25 s" in text
    assert yaml.safe_load(text) == {
        "detect": {
            "low_volume_dbfs": -45.0,
            "vad": {"aggressiveness": 2},
            "noise": {"percentile": 15.0},
        },
        "script": {"noinput": 3.5, "end_of_speech": 0.8},
    }
    assert isinstance(yaml.safe_load(text)["detect"]["vad"]["aggressiveness"], int)


def test_write_csv(tmp_path) -> None:
    rows = [row(0.9, 3.0, noinput=3.0), row(0.5, 1.0 / 3, noinput=2.5)]
    path = tmp_path / "out" / "results.csv"
    write_csv(path, rows, ["noinput"])
    with open(path, encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["noinput", *SUMMARY_FIELDS]
    assert len(table) == 3
    first = dict(zip(table[0], table[1], strict=True))
    assert first["noinput"] == "3.0" and float(first["accuracy"]) == 0.9
    assert first["calls"] == "10"
    assert float(table[2][table[0].index("cost_s")]) == pytest.approx(1 / 3)
    assert [p.name for p in path.parent.iterdir()] == ["results.csv"]  # no temporary left


def test_results_table_marks_the_best_and_the_front() -> None:
    rows = [row(0.8, 2.0, noinput=2.0), row(0.9, 3.0, noinput=3.0), row(0.7, 4.0, noinput=4.0)]
    front = pareto_front(rows)
    best = recommend(rows, ["noinput"])
    table = results_table(rows, ["noinput"], best, front, limit=2)
    assert table.row_count == 2
    console = Console(width=200, record=True)
    console.print(table)
    lines = console.export_text().splitlines()
    best_line = next(line for line in lines if "best" in line)
    assert "90.0%" in best_line and "3" in best_line
    assert any("front" in line and "80.0%" in line for line in lines)
    assert not any("70.0%" in line for line in lines)  # beyond the limit


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, checking each one's CRC."""
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


@pytest.mark.parametrize("params", [["noinput", "vad.aggressiveness"], ["vad.aggressiveness"]])
def test_plot_png_writes_a_png(tmp_path, params) -> None:
    rows = []
    for noinput in (2.0, 2.5, 3.0, 3.5, 4.0):
        for aggressiveness in range(4):
            s = Summary(
                accuracy=min(1.0, 0.5 + 0.1 * noinput - 0.05 * aggressiveness),
                premature_reprompt_rate=max(0.0, 0.4 - 0.1 * noinput),
                premature_hangup_rate=max(0.0, 0.3 - 0.1 * noinput),
                missed_quiet_rate=0.25 * aggressiveness / 3,
                noise_as_answer_rate=0.0,
                dead_line_s=30.0 + 3 * noinput,
                response_s=0.8 + 0.1 * aggressiveness,
                cost_s=30.8 + 3 * noinput + 0.1 * aggressiveness,
                calls=12,
            )
            setting = {"noinput": noinput, "vad.aggressiveness": aggressiveness}
            rows.append({p: setting[p] for p in params} | dataclasses.asdict(s))
    path = tmp_path / f"tune-{len(params)}.png"
    plot_png(path, rows, params, pareto_front(rows))
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks = png_chunks(data)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert width > height > 300
    text = b"".join(body for kind, body in chunks if kind == b"tEXt")
    assert b"Software\x00Matplotlib" in text
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_labels_from_manifest(tmp_path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(
        """
version: 1
calls:
- file: a.wav
  situation: answers_late
  speech:
  - {start_s: 21.84, end_s: 22.72, level_dbfs: -20.0}
  - {start_s: 18.62, end_s: 18.86}
  expect: {classification: speech, first_speech_s: 18.62, outcome: answered}
- file: b.wav
  situation: never_answers
  speech: []
  expect: {classification: silence, first_speech_s: null}
- file: sub/c.wav
  expect: {outcome: wrong_person}
  speech: [{start_s: 1}, not a segment]
- file: unlabelled.wav
  speech: [{start_s: 1.0, end_s: 2.0}]
  expect: {classification: speech}
- not a call
""",
        encoding="utf-8",
    )
    labels = labels_from_manifest(path)
    assert sorted(labels) == ["a.wav", "b.wav", "c.wav"]
    assert labels["a.wav"] == CallLabel(
        "a.wav", "answers_late", "answered", ((18.62, 18.86), (21.84, 22.72))
    )
    assert labels["b.wav"] == CallLabel("b.wav", "never_answers", None, ())
    assert labels["b.wav"].expected_outcome == "no_answer"
    assert labels["c.wav"] == CallLabel("c.wav", "", "wrong_person", ())


def test_labels_from_a_broken_manifest(tmp_path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text("calls: [a\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"manifest\.yaml: not valid YAML"):
        labels_from_manifest(path)
    with pytest.raises(ManifestError, match="cannot read"):
        labels_from_manifest(tmp_path / "missing.yaml")

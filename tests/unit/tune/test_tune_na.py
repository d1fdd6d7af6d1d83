"""What the labels cannot tell is n/a, never a fake 0: per call, in a setting's summary, and in
the table, CSV, overlay and picture of `ivr tune` (hand-built timelines and rows, no audio)."""

from __future__ import annotations

import csv

import pytest
import yaml
from rich.console import Console
from test_tune_metrics import answered, label, metrics, opening, rec, row, run_of

from ivr.tune.metrics import Summary, call_metrics, labels_from_manifest, missing_details, summarize
from ivr.tune.report import (
    SUMMARY_FIELDS,
    overlay_yaml,
    pareto_front,
    recommend,
    results_table,
    tuning_figure,
    write_csv,
)

RATES = ("premature_reprompt_rate", "premature_hangup_rate", "missed_quiet_rate")
RATES += ("noise_as_answer_rate",)
NOT_ACCURACY = [f for f in SUMMARY_FIELDS if f not in ("accuracy", "calls")]
"""Every summary field that needs more than an outcome label: the rates and the times."""

OUTCOMES_ONLY = """\
# Hand-written labels: the outcome each call must reach, no situations, no speech segments.
calls:
- {file: a.wav, expect: {outcome: answered}}
- {file: b.wav, expect: {outcome: no_answer}}
"""
NOTES = [
    "dead-line seconds need calls labelled situation: never_answers",
    "response time needs labelled speech segments (speech: start_s, end_s)",
    "premature re-prompts and hang-ups need labelled speech (a speech: list per call, [] when "
    "the callee says nothing)",
    "missed quiet callees need calls labelled situation: too_quiet (or outcome: low_volume)",
    "noise taken for an answer needs calls labelled situation: noisy_line (or outcome: noisy_line)",
]


def manifest(tmp_path, text: str) -> dict:
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    return labels_from_manifest(path)


# ---- per call and per setting --------------------------------------------------------------


def test_summarize_without_the_situations() -> None:
    """No dead line, no response, no quiet or noisy call: those are n/a (None), not 0."""
    s = summarize([metrics(), metrics(correct=False)])
    assert s.accuracy == 0.5 and (s.premature_reprompt_rate, s.premature_hangup_rate) == (0, 0)
    assert s.missed_quiet_rate is None and s.noise_as_answer_rate is None
    assert s.dead_line_s is None and s.response_s is None and s.cost_s is None
    assert summarize([]) == Summary(0.0, *(None,) * 7, 0)
    one = summarize([metrics(response_s=(0.5,)), metrics(response_s=(1.5,))])
    assert one.dead_line_s is None and one.response_s == 1.0 and one.cost_s == 1.0


def test_what_each_label_can_tell(tmp_path) -> None:
    labels = manifest(
        tmp_path,
        """calls:
- {file: a.wav, expect: {outcome: answered}}
- {file: b.wav, expect: {outcome: low_volume}}
- {file: c.wav, expect: {outcome: noisy_line}}
- {file: d.wav, situation: never_answers}
- {file: e.wav, situation: answers_late, speech: []}
- {file: f.wav, situation: answers_late, speech: null}
""",
    )
    files = [f"{name}.wav" for name in "abcdef"]
    assert [labels[f].speech_labelled for f in files] == [0, 0, 0, 1, 1, 0]
    assert [labels[f].quiet for f in files] == [0, 1, 0, 0, 0, 0]
    assert [labels[f].noisy for f in files] == [0, 0, 1, 0, 0, 0]
    run = run_of(opening() + answered(22.72, 23.52), "answered")
    bare = call_metrics(run, labels["a.wav"])
    assert bare.correct and bare.dead_line_s is None
    assert (bare.premature_reprompts, bare.premature_hangup) == (None, None)
    assert (bare.missed_quiet, bare.noise_as_answer) == (None, None)
    assert call_metrics(run, labels["b.wav"]).missed_quiet is True  # no low_volume event
    assert call_metrics(run, labels["c.wav"]).noise_as_answer is True
    silent = call_metrics(run, labels["d.wav"])  # never_answers: no speech, and known to be so
    assert (silent.premature_reprompts, silent.premature_hangup) == (0, False)


def test_rates_are_over_the_calls_that_can_tell_them() -> None:
    unknown = {"premature_reprompts": None, "premature_hangup": None}
    calls = [
        metrics(premature_hangup=True),
        metrics(premature_reprompts=2),
        metrics(**unknown),  # an outcomes-only label: says nothing of premature prompts
        metrics(**unknown, situation="", missed_quiet=True),  # outcome low_volume
        metrics(**unknown, situation="", noise_as_answer=False),  # outcome noisy_line
    ]
    s = summarize(calls)
    assert s.calls == 5 and s.accuracy == 1.0
    assert (s.premature_reprompt_rate, s.premature_hangup_rate) == (0.5, 0.5)  # of 2, not 5
    assert s.missed_quiet_rate == 1.0 and s.noise_as_answer_rate == 0.0  # a true 0: 1 of 1


def test_labels_with_outcomes_only_give_na_and_detailed_labels_give_numbers(tmp_path) -> None:
    labels = manifest(tmp_path, OUTCOMES_ONLY)
    assert missing_details(labels.values()) == NOTES
    timeline = opening() + answered(22.72, 23.52)
    runs = [run_of(timeline, "answered", "a.wav"), run_of(timeline, "no_answer", "b.wav")]
    s = summarize([call_metrics(r, labels[r.file]) for r in runs])
    assert s.accuracy == 1.0 and {f: getattr(s, f) for f in NOT_ACCURACY} == dict.fromkeys(
        NOT_ACCURACY
    )
    start = [rec(0.0, "prompt_started", prompt="opening")]
    detailed = [  # one call of each kind, with its situation and speech segments
        (label("answers_late", [(18.62, 18.86), (21.84, 22.72)]), timeline, "answered"),
        (label("never_answers"), [*start, rec(41.98, "hangup")], "no_answer"),
        (
            label("too_quiet", [(16.0, 17.0)]),
            [*start, rec(17.4, "low_volume", count=1), rec(40.0, "hangup")],
            "low_volume",
        ),
        (label("noisy_line"), [*start, rec(20.0, "hangup")], "answered"),
    ]
    assert missing_details(one for one, _, _ in detailed) == []
    s = summarize([call_metrics(run_of(t, outcome), one) for one, t, outcome in detailed])
    assert s.accuracy == 0.75 and s.calls == 4
    assert s.premature_reprompt_rate == 0.25 and s.premature_hangup_rate == 0.0
    assert s.missed_quiet_rate == 0.0 and s.noise_as_answer_rate == 1.0
    assert s.dead_line_s == pytest.approx(41.98) and s.response_s == pytest.approx(0.8)
    assert s.cost_s == pytest.approx(41.98 + 0.8)


# ---- table, CSV, overlay, ranking ----------------------------------------------------------


def test_times_the_labels_cannot_give_are_na_not_zero(tmp_path) -> None:
    """Table and overlay say n/a, the CSV cell is empty, ranking counts a cost of n/a as 0."""
    rows = [row(0.5, 2.0, noinput=2.0), row(0.9, 3.0, noinput=3.0), row(0.9, 3.0, noinput=4.0)]
    rows[1] |= {"dead_line_s": None, "response_s": 3.0}
    rows[2] |= {"dead_line_s": None, "response_s": None, "cost_s": None}
    assert pareto_front(rows) == [2] and recommend(rows, ["noinput"]) == 2
    console = Console(width=200, record=True)
    console.print(results_table(rows, ["noinput"], 1, [1]))
    lines = console.export_text().splitlines()
    assert "n/a" in next(line for line in lines if "best" in line)
    assert next(line for line in lines if " 4 " in line).count("n/a") == 3
    assert all("0.00" not in line for line in lines if " 4 " in line)
    write_csv(tmp_path / "r.csv", rows, ["noinput"])
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert (table[2]["dead_line_s"], table[2]["response_s"], table[2]["cost_s"]) == ("",) * 3
    assert table[1]["dead_line_s"] == "" and float(table[1]["response_s"]) == 3.0
    text = overlay_yaml(rows[2], ["noinput"], ["recommended noinput 4 s is outside\n 2.5-3.5 s"])
    assert "cost n/a (dead line n/a + response n/a)" in text
    assert "# warning: recommended noinput 4 s is outside 2.5-3.5 s\n" in text
    assert yaml.safe_load(text) == {"script": {"noinput": 4.0}}
    assert "cost 3.00 s (dead line n/a + response 3.00 s)" in overlay_yaml(rows[1], [])


def test_rates_the_labels_cannot_give_are_na_not_zero(tmp_path) -> None:
    """Rates n/a: n/a in the table and overlay, empty in the CSV, and 0 in the ranking."""
    rows = [row(0.9, 3.0, noinput=3.0), row(0.9, 3.0, noinput=4.0), row(0.8, 1.0, noinput=2.0)]
    rows[0] |= dict.fromkeys(RATES)
    console = Console(width=200, record=True)
    console.print(results_table(rows, ["noinput"], 0, [2, 0, 1]))
    lines = console.export_text().splitlines()
    cells = {line.split("│")[2].strip(): line.split("│")[-5:-1] for line in lines if "│" in line}
    assert [cell.strip() for cell in cells["3"]] == ["n/a"] * 4  # the rates, not 0.0%
    assert [cell.strip() for cell in cells["4"]] == ["10.0%", "20.0%", "0.0%", "0.0%"]
    write_csv(tmp_path / "r.csv", rows, ["noinput"])
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert [table[0][rate] for rate in RATES] == [""] * 4
    assert float(table[1]["premature_hangup_rate"]) == 0.2 and table[1]["missed_quiet_rate"]
    text = overlay_yaml(rows[0], ["noinput"])
    assert "# premature re-prompts n/a, premature hang-ups n/a (of calls with labelled" in text
    assert "# missed quiet callees n/a, noise taken as an answer n/a.\n" in text
    assert " 0.0%" not in text and "accuracy 90.0%, cost 3.00 s" in text
    assert "premature re-prompts 10.0%, premature hang-ups 20.0%" in overlay_yaml(rows[1], [])
    # a rate n/a ranks as 0 (the labels lack it for every setting alike); a worse rate loses
    # the recommendation to an as accurate setting, whatever the cost; the front stays
    for value, best in ((None, 0), (0.0, 0), (1.0, 1)):
        rows[0] |= dict.fromkeys(RATES, value)
        assert recommend(rows, ["noinput"]) == best and pareto_front(rows) == [2, 0, 1]


# ---- the picture ---------------------------------------------------------------------------


def test_the_picture_draws_no_time_it_does_not_know() -> None:
    rows = [row(0.5 + 0.1 * n, 2.0, noinput=n) for n in (2.0, 3.0, 4.0)]
    for r in rows:
        r |= {"dead_line_s": None, "response_s": None, "cost_s": None}
    fig = tuning_figure(rows, ["noinput"], pareto_front(rows))
    left, _rates, right = fig.axes
    assert "cost n/a" in left.get_xlabel()
    assert sorted(left.collections[0].get_offsets()[:, 0]) == [1.0, 2.0, 3.0]  # rows, not 0 s
    assert "not drawn" not in left.get_legend_handles_labels()[1][0]
    assert "n/a" in right.get_ylabel() and not right.lines  # no dead-line curve at 0 s
    rows[0] |= {"dead_line_s": 30.0, "cost_s": 30.0}
    fig = tuning_figure(rows, ["noinput"], pareto_front(rows))
    assert "2 with cost n/a not drawn" in fig.axes[0].get_legend_handles_labels()[1][0]
    assert "response time n/a" in fig.axes[0].get_xlabel()
    (dead,) = fig.axes[2].lines
    assert dead.get_ydata()[0] == 30.0 and all(y != y for y in dead.get_ydata()[1:])  # NaN gaps


def test_the_picture_draws_no_rate_it_does_not_know() -> None:
    rows = [row(0.5 + 0.1 * n, 2.0 + n, noinput=n) for n in (2.0, 3.0, 4.0)]
    for r in rows:
        r |= dict.fromkeys(RATES)
    fig = tuning_figure(rows, ["noinput"], pareto_front(rows))
    _left, rates, right = fig.axes
    assert not rates.lines and rates.get_ylabel() == "premature rates: n/a (no labelled speech)"
    assert [line.get_label() for line in right.lines] == ["mean dead-line time (s, right)"]
    blank = [r | {"dead_line_s": None, "cost_s": r["response_s"]} for r in rows]
    _left, rates, right = tuning_figure(blank, ["noinput"], pareto_front(blank)).axes
    assert not rates.lines and not right.lines and rates.get_legend() is None
    assert "n/a" in rates.texts[0].get_text() and rates.get_xlim() == (1.5, 4.5)  # not 0..1
    rows[0] |= {"premature_hangup_rate": 0.25, "premature_reprompt_rate": 0.5}
    fig = tuning_figure(rows, ["noinput"], pareto_front(rows))
    hangups, reprompts = fig.axes[1].lines
    assert fig.axes[1].get_ylabel() == "calls (%)"
    assert (hangups.get_ydata()[0], reprompts.get_ydata()[0]) == (25.0, 50.0)
    assert all(y != y for y in [*hangups.get_ydata()[1:], *reprompts.get_ydata()[1:]])  # gaps

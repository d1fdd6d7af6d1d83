"""The standard's no-input wait (`qa: noinput_s`): parsed from the scripts, and `ivr tune` warns
when it recommends a wait outside it."""

from __future__ import annotations

import pytest
import yaml
from test_tune import answer_corpus, run_tune

from ivr.errors import ScriptError
from ivr.qa.score import QaSettings
from ivr.script import PROMPTS_DIR, load_script
from ivr.script.model import SecondsRange
from ivr.script.overrides import with_timings
from ivr.tts import PromptCache
from ivr.tune.standard import noinput_warnings

VALUES = {"agent_id": "1", "number": "1"}
QA_LINE = "qa: {max_reprompts: 2, answer_within_ms: 2000, noinput_s: [2.5, 3.5]}"


def line_of(name: str, needle: str) -> int:
    text = (PROMPTS_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, row in enumerate(text, 1) if needle in row)


def outbound_with(tmp_path, new: str):
    """The shipped outbound script with its qa line replaced by `new`."""
    text = (PROMPTS_DIR / "outbound.yaml").read_text(encoding="utf-8")
    assert QA_LINE in text
    path = tmp_path / "outbound.yaml"
    path.write_text(text.replace(QA_LINE, new), encoding="utf-8")
    return load_script(path, VALUES)


def test_the_shipped_scripts_give_the_standards_wait():
    outbound, inbound = load_script("outbound", VALUES), load_script("inbound")
    assert outbound.qa_noinput_s == SecondsRange(2.5, 3.5, line_of("outbound", QA_LINE))
    assert inbound.qa_noinput_s == SecondsRange(4.5, 5.5, line_of("inbound", "noinput_s: ["))
    assert str(outbound.qa_noinput_s) == "2.5-3.5 s"
    assert 3.0 in outbound.qa_noinput_s and 3.5000001 in outbound.qa_noinput_s
    assert 4.0 not in outbound.qa_noinput_s and 2.4 not in outbound.qa_noinput_s
    # the whole-number limits stay as they were, for ivr.qa.score
    assert outbound.qa == {"max_reprompts": 2, "answer_within_ms": 2000}
    assert QaSettings.for_script(outbound) == QaSettings(2000, max_reprompts=2)
    assert QaSettings.for_script(inbound) == QaSettings(2000, max_reprompts=1)


def test_a_script_without_the_range_has_none(tmp_path):
    script = outbound_with(tmp_path, "qa: {max_reprompts: 2, answer_within_ms: 2000}")
    assert script.qa_noinput_s is None and script.qa["max_reprompts"] == 2
    assert noinput_warnings(script, {"noinput": 9.0}) == []
    script = outbound_with(tmp_path, "qa: {noinput_s: [3, 3]}")
    assert script.qa_noinput_s == SecondsRange(3.0, 3.0, script.qa_noinput_s.line)
    assert script.qa == {} and QaSettings.for_script(script) == QaSettings()


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("[3.5, 2.5]", "got [3.5, 2.5]"),
        ("[0, 3]", "got [0, 3]"),
        ("[2.5, 61]", "got [2.5, 61]"),
        ("[2.5]", "got a list of 1"),
        ("[1, 2, 3]", "got a list of 3"),
        ("3", "got a number"),
        ("{low: 2.5}", "got a mapping"),
    ],
)
def test_bad_ranges_name_file_line_and_rule(tmp_path, value, got):
    new = f"qa: {{max_reprompts: 2, noinput_s: {value}}}"
    with pytest.raises(ScriptError) as caught:
        outbound_with(tmp_path, new)
    message = str(caught.value)
    line = line_of("outbound", QA_LINE)
    assert message.startswith(f"{tmp_path / 'outbound.yaml'}:{line}: schema: qa: noinput_s ")
    assert "must be [low, high] in s with 0 < low <= high <= 60" in message and got in message
    assert "\n" not in message


def test_bad_bound_and_unknown_key(tmp_path):
    with pytest.raises(ScriptError, match=r":\d+: schema: qa: noinput_s must be a number"):
        outbound_with(tmp_path, "qa: {noinput_s: [2.5, soon]}")
    with pytest.raises(ScriptError, match=r"unknown key 'noinput'.*did you mean 'noinput_s'"):
        outbound_with(tmp_path, "qa: {noinput: [2.5, 3.5]}")


def test_warnings_for_the_recommended_and_the_scripts_own_wait():
    outbound, inbound = load_script("outbound", VALUES), load_script("inbound")
    where = f"({outbound.path}:{outbound.qa_noinput_s.line}: qa: noinput_s)"
    assert noinput_warnings(outbound, {"noinput": 3.0, "accuracy": 1.0}) == []
    assert noinput_warnings(outbound, {"noinput": 3.5}) == []
    assert noinput_warnings(outbound, {"noinput": 4.5}) == [
        f"recommended noinput 4.5 s is outside the outbound standard's 2.5-3.5 s {where}"
    ]
    assert noinput_warnings(inbound, {"noinput": 5.0}) == []
    (warning,) = noinput_warnings(inbound, {"noinput": 3.0})
    assert "noinput 3 s is outside the inbound standard's 4.5-5.5 s" in warning
    # the grid does not vary noinput: the script's own value is what the setting keeps
    assert noinput_warnings(outbound, {"low_volume_dbfs": -45.0}) == []
    (warning,) = noinput_warnings(with_timings(outbound, {"noinput": 5.0}), {"accuracy": 1.0})
    assert warning.startswith("the script's own noinput 5 s (state opening; ")
    assert "the grid does not vary noinput) is outside the outbound standard's 2.5-3.5 s" in warning


@pytest.fixture(scope="module")
def opening_s() -> float:
    script = load_script("outbound", VALUES)
    return PromptCache().render_all(script.prompts)["opening"].duration_s


def test_tune_warns_when_the_best_noinput_is_outside_the_standard(opening_s, tmp_path):
    """Callees answering up to 4.2 s after the opening: 3 s talks over them, 5 s is best."""
    corpus = answer_corpus(tmp_path / "calls", opening_s, [1.0, 4.2], dead_lines=1)
    out = tmp_path / "out"
    done = run_tune(corpus.parent, out, "noinput=3,5")
    assert done.returncode == 0, done.stdout + done.stderr
    expected = "warning: recommended noinput 5 s is outside the outbound standard's 2.5-3.5 s ("
    (warning,) = [row for row in done.stdout.splitlines() if row.startswith("warning:")]
    where = f"{PROMPTS_DIR / 'outbound.yaml'}:{line_of('outbound', QA_LINE)}: qa: noinput_s)"
    assert warning.startswith(expected) and warning.endswith(where)
    overlay = (out / "recommended.yaml").read_text(encoding="utf-8")
    assert f"# {warning}\n" in overlay
    assert yaml.safe_load(overlay) == {"script": {"noinput": 5.0}}  # still recommended

    config = tmp_path / "base.yaml"  # the grid leaves noinput as the base config sets it
    config.write_text("script: {noinput: 5.0}\n", encoding="utf-8")
    out = tmp_path / "fixed"
    done = run_tune(corpus.parent, out, "low_volume_dbfs=-45,-40", extra=["--config", str(config)])
    assert done.returncode == 0, done.stdout + done.stderr
    (warning,) = [row for row in done.stdout.splitlines() if row.startswith("warning:")]
    assert warning.startswith("warning: the script's own noinput 5 s (state opening; ")
    assert f"# {warning}\n" in (out / "recommended.yaml").read_text(encoding="utf-8")

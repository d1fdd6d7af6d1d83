"""One vocabulary of QA checks: every check's id is in the README's QA list,
`ivr calls show` and the report give the same title for each, and a single call scored 100
counts as passed in the report's cards."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ivr.cli import app
from ivr.qa.checks import QA_CHECKS
from ivr.qa.score import score_call

README = Path(__file__).resolve().parents[3] / "README.md"
VALUES = ["--agent-id", "1001", "--number", "13812345678"]


def test_every_check_is_in_the_readme_list() -> None:
    listed = re.findall(r"^- `([a-z_]+)`: (.+?)[;.( ]", README.read_text("utf-8"), re.M)
    ids = [check_id for check_id, _ in listed]
    assert ids == [check.id for check in QA_CHECKS]


def test_the_score_names_every_check_in_order() -> None:
    assert list(score_call((), {}, ()).items) == [check.id for check in QA_CHECKS]


@pytest.fixture(scope="module")
def one_call(outbound_calls: Path, tmp_path_factory) -> tuple[Path, Path]:
    """A single answered call replayed with a call log and a report: (db, report page)."""
    data = yaml.safe_load(outbound_calls.read_text("utf-8"))
    [name] = [c["file"] for c in data["calls"] if "answers_at_once_clean" in c["file"]]
    out = tmp_path_factory.mktemp("qa")
    args = ["replay", str(outbound_calls.parent / name), "--script", "outbound", *VALUES]
    args += ["--asr", "none", "--db", str(out / "calls.db"), "--out", str(out / "calls")]
    result = CliRunner().invoke(app, [*args, "--report", str(out / "report")])
    assert result.exit_code == 0, result.output
    return out / "calls.db", out / "report" / "index.html"


def test_calls_show_and_the_report_use_the_same_titles(one_call) -> None:
    db, page = one_call
    shown = CliRunner().invoke(app, ["calls", "show", "1", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    text = html.unescape(page.read_text("utf-8"))
    for check in QA_CHECKS:
        [line] = [x for x in shown.output.splitlines() if x.split()[:1] == [check.id]]
        assert line.endswith(check.title), line
        assert f"{check.title}" in text and f"<code>{check.id}</code>" in text


def test_a_call_scored_100_counts_as_passed(one_call) -> None:
    db, page = one_call
    shown = CliRunner().invoke(app, ["calls", "show", "1", "--db", str(db)])
    assert "  QA score     100" in shown.output.splitlines()
    found = re.findall(r'<div class="card"><b>([^<]*)</b>([^<]*)</div>', page.read_text("utf-8"))
    cards = {label: value for value, label in found}
    assert cards["QA passed"] == "1" and cards["QA failed"] == "0"
    assert "not judged" not in cards  # no expectation was given: nothing to judge

"""`ivr lint`'s noinput-wait rule: a listening state's no-input wait outside the script's
`qa: noinput_s` range, on bad copies of the shipped scripts (test_lint.py has the others)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_lint import OUTBOUND, changed, ivr, line_of, write

from ivr.qa.lint import lint_script
from ivr.script import PROMPTS_DIR

INBOUND = (PROMPTS_DIR / "inbound.yaml").read_text(encoding="utf-8")
WAIT = "listen: {noinput_timeout_s: 3.0,"  # outbound's defaults: listen:
OWN = "    listen: {}"  # the one listening state of each shipped script
OUTSIDE = "outside the {} the {} standard allows before a re-prompt (qa: noinput_s at line {})"


def waits(base: str, default: str = "", own: str = "") -> str:
    """`base` with outbound's default wait (s) and the listening state's `listen:` replaced."""
    pairs = [WAIT, f"listen: {{noinput_timeout_s: {default},"] if default else []
    return changed(*pairs, *([OWN, f"    listen: {own}"] if own else []), text=base)


@pytest.mark.parametrize(
    ("text", "needle", "state", "message"),
    [
        (waits(OUTBOUND, default="4.0"), "noinput_timeout_s: 4.0", "opening",
         "state 'opening' (line {}) waits 4 s for input (noinput_timeout_s from defaults: listen:)"
         ", " + OUTSIDE.format("2.5-3.5 s", "outbound", "{}")),
        (waits(OUTBOUND, own="{noinput_timeout_s: 2.4}"), "noinput_timeout_s: 2.4", "",
         "state 'opening' waits 2.4 s for input (its noinput_timeout_s), "
         + OUTSIDE.format("2.5-3.5 s", "outbound", "{}")),
        (waits(INBOUND, own="\n      noinput_timeout_s: 3"), "      noinput_timeout_s: 3", "",
         "state 'greeting' waits 3 s for input (its noinput_timeout_s), "
         + OUTSIDE.format("4.5-5.5 s", "inbound", "{}")),
    ],
    ids=["outbound-default", "outbound-own", "inbound-own-block"],
)  # fmt: skip
def test_noinput_wait_outside_the_standard_is_reported(
    tmp_path: Path, text: str, needle: str, state: str, message: str
) -> None:
    [problem] = lint_script(write(tmp_path, text))
    assert (problem.line, problem.rule) == (line_of(text, needle), "noinput-wait")
    state_line = [text.splitlines().index(f"  {state}:") + 1] if state else []
    assert problem.message == message.format(*state_line, line_of(text, "noinput_s: ["))


def test_noinput_wait_within_the_standard_or_without_one_is_not_reported(tmp_path: Path) -> None:
    no_range = changed(", noinput_s: [2.5, 3.5]", "", text=waits(OUTBOUND, default="9.0"))
    for name, text in {
        "edges": waits(OUTBOUND, default="2.5", own="{noinput_timeout_s: 3.5}"),
        "overridden": waits(OUTBOUND, default="9.0", own="{noinput_timeout_s: 3}"),
        "no-range": no_range,
    }.items():
        assert lint_script(write(tmp_path, text, f"{name}.yaml")) == [], name


def test_cli_prints_the_noinput_wait_line(tmp_path: Path) -> None:
    path = write(tmp_path, waits(OUTBOUND, default="5.0"))
    result = ivr("lint", str(path))
    assert result.returncode == 1, result.stderr
    first, summary = result.stdout.splitlines()
    assert first.startswith(f"{path}:{line_of(OUTBOUND, WAIT)}: noinput-wait: state 'opening' ")
    assert "waits 5 s for input" in first and "2.5-3.5 s the outbound standard" in first
    assert summary == "1 script checked: 1 problem in 1 script (noinput-wait 1)"

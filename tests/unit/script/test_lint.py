"""`ivr lint`: forbidden phrases, 您, greeting and closing on real script files; list; CLI."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from shared import ROOT, text_writer
from shared import ivr as run_ivr

from ivr.errors import IvrError, ScriptError
from ivr.qa.lint import LintProblem, lint_paths, lint_script, script_files
from ivr.qa.phrases import (
    FORBIDDEN_PATH,
    ForbiddenPhrase,
    find_forbidden,
    load_forbidden,
    normalize,
)
from ivr.script import PROMPTS_DIR, load_script

OUTBOUND = (PROMPTS_DIR / "outbound.yaml").read_text(encoding="utf-8")
OPENING = '  opening: "'
HELLO_AGAIN = '  hello_again: "您好!您好!请问能听到吗?"'
WRONG_PERSON = "{hangup: wrong_person}"
DENY = "{say: closing_wrong_person}, {pause: 2}, {hangup: wrong_person}"
ANSWERED_DO = "do: [{pause: 2}, {hangup: answered}]"


def line_of(text: str, needle: str) -> int:
    """The line (from 1) of the only line of `text` containing `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, f"{needle!r} is on lines {found}"
    return found[0]


def changed(*pairs: str, text: str = OUTBOUND) -> str:
    """`text` with each (old, new) pair of `pairs` replaced; every old occurs exactly once."""
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


write = text_writer("call.yaml")
ivr = functools.partial(run_ivr, cwd=ROOT)
"""`ivr` in the repository, where the shipped scripts are."""


def found(path: Path, forbidden: list[ForbiddenPhrase] | None = None) -> list[tuple[int, str]]:
    """(line, rule) of every problem `lint_script` finds, in its order."""
    return [(p.line, p.rule) for p in lint_script(path, forbidden)]


# ---- the shipped scripts and list ----------------------------------------------------------


@pytest.mark.parametrize("name", ["outbound", "inbound", "outbound_amd"])
def test_shipped_script_has_no_problems(name: str) -> None:
    assert lint_script(PROMPTS_DIR / f"{name}.yaml") == []


def test_cli_lints_the_shipped_folder_clean_without_the_forbidden_list() -> None:
    result = ivr("lint", "prompts/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "3 scripts checked: no problems\n"
    assert result.stderr == ""
    names = [path.name for path in script_files([PROMPTS_DIR])]
    assert names == ["inbound.yaml", "outbound.yaml", "outbound_amd.yaml"]
    assert lint_paths(["outbound", "inbound"]) == []


def test_bundled_list_is_unique_and_each_phrase_is_caught_on_its_own() -> None:
    phrases = load_forbidden()
    assert load_forbidden(FORBIDDEN_PATH) == phrases
    keys = [normalize(phrase.text) for phrase in phrases]
    assert len(set(keys)) == len(keys) > 50
    assert all(key for key in keys)
    assert all(phrase.source.startswith("seed ") for phrase in phrases)
    for phrase in phrases:
        assert phrase in find_forbidden(f"您好,{phrase.text}。", phrases), phrase.text
    assert "什么" not in keys  # left out on purpose: 请问有什么可以帮助您 is the standard's own


def test_normalize_folds_width_case_spaces_and_punctuation() -> None:
    assert normalize("听不见, 再讲 一次!") == normalize("听不见,再讲一次") == "听不见再讲一次"
    assert normalize("ＡＢＣ ８８…") == "abc88"


# ---- forbidden-phrase ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "phrase"),
    [
        ("喂,您好!请问能听到吗?", "喂"),  # seed 001
        ("您好!说话呀!请问能听到吗?", "说话呀"),  # seed 002 (呀 alone is not reported)
        ("您好!请您大声点,好吗?", "大声点"),  # seed 003
        ("您好!你说什么?", "你说什么"),  # seeds 001-003
        ("您好!这个我不知道。", "不知道"),  # seed 003
        ("您好!听不见,再讲一次。", "听不见,再讲一次"),  # full-width comma, list has ASCII
        ("您好!听不见 ,  再讲 一次", "听不见,再讲一次"),  # spaces
        ("您好!再见８８", "88"),  # full-width digits
    ],
)
def test_forbidden_phrase_is_reported_at_the_prompt_line(
    tmp_path: Path, prompt: str, phrase: str
) -> None:
    text = changed(HELLO_AGAIN, f'  hello_again: "{prompt}"')
    line = line_of(text, "hello_again:")
    problems = lint_script(write(tmp_path, text))
    expected = [(line, "forbidden-phrase")] + [(line, "informal-you")] * ("你" in prompt)
    assert [(p.line, p.rule) for p in problems] == expected
    message = problems[0].message
    assert message.startswith(f"prompt 'hello_again' contains the forbidden phrase {phrase!r} (")
    assert "seed 00" in message


def test_short_phrase_inside_a_longer_one_is_left_out_only_there() -> None:
    phrases = load_forbidden()
    assert [p.text for p in find_forbidden("您好,说话呀!", phrases)] == ["说话呀"]
    assert [p.text for p in find_forbidden("说话呀!快点呀", phrases)] == ["说话呀", "呀"]
    both = find_forbidden("有没有搞错,说那么大声点", phrases)
    assert [p.text for p in both] == ["大声点", "有没有搞错,说那么大声"]


def test_placeholder_value_is_not_checked_but_the_literal_text_is(tmp_path: Path) -> None:
    value = changed("org: 温州气象局", "org: 喂,不知道")
    assert lint_script(write(tmp_path, value, "value.yaml")) == []
    across = changed(HELLO_AGAIN, '  hello_again: "您好!我不{org}知道。"')
    assert lint_script(write(tmp_path, across, "across.yaml")) == []
    literal = changed("{org}{agent_id}", "{org}喂{agent_id}")
    problems = lint_script(write(tmp_path, literal, "literal.yaml"))
    assert [(p.line, p.rule) for p in problems] == [(line_of(literal, OPENING), "forbidden-phrase")]
    assert "'喂'" in problems[0].message


def test_another_list_replaces_the_bundled_one(tmp_path: Path) -> None:
    text = changed(HELLO_AGAIN, '  hello_again: "您好!喂,请问能听到吗?"')
    script = write(tmp_path, text)
    listed = write(tmp_path, 'phrases:\n  - {text: "客户 代表", source: "local rule"}\n', "f.yaml")
    phrases = load_forbidden(listed)
    assert phrases == [ForbiddenPhrase("客户 代表", "local rule")]
    assert found(script, phrases) == [(line_of(text, OPENING), "forbidden-phrase")]
    result = ivr("lint", "--forbidden", str(listed), str(script))
    assert result.returncode == 1
    opening = line_of(text, OPENING)
    assert result.stdout.splitlines() == [
        f"{script}:{opening}: forbidden-phrase: prompt 'opening' contains the forbidden phrase "
        "'客户 代表' (local rule)",
        "1 script checked: 1 problem in 1 script (forbidden-phrase 1)",
    ]


# ---- informal-you and greeting -------------------------------------------------------------


def test_informal_you_is_reported_and_polite_you_is_not(tmp_path: Path) -> None:
    old = "谢谢您的接听"
    informal = changed(old, "谢谢你的接听")
    problems = lint_script(write(tmp_path, informal, "you.yaml"))
    assert [(p.line, p.rule) for p in problems] == [
        (line_of(informal, "  thanks_goodbye:"), "informal-you")
    ]
    assert problems[0].message.startswith("prompt 'thanks_goodbye' says 你 (")
    assert problems[0].message.endswith("1 time(s)): address the customer as 您")
    polite = changed(old, "谢谢您和您家人的接听")
    assert lint_script(write(tmp_path, polite, "polite.yaml")) == []


def test_informal_you_in_a_placeholder_name_is_not_said(tmp_path: Path) -> None:
    text = changed("{number}的机主", "{你的号码}的机主", "  number: null", "  你的号码: null")
    assert lint_script(write(tmp_path, text)) == []


@pytest.mark.parametrize("start", ["", "请问,", "{org}"])
def test_first_prompt_without_greeting_is_reported(tmp_path: Path, start: str) -> None:
    text = changed('  opening: "您好!我是', f'  opening: "{start}我是')
    problems = lint_script(write(tmp_path, text))
    assert [(p.line, p.rule) for p in problems] == [(line_of(text, OPENING), "greeting")]
    said_at = line_of(text, "say: [opening]")
    assert problems[0].message == (
        f"prompt 'opening', the first the call says (state 'opening', line {said_at}), "
        "does not start with a greeting: begin it with 您好"
    )


def test_greeting_is_found_through_a_start_state_that_only_acts(tmp_path: Path) -> None:
    text = changed(
        "start: opening", "start: intro",
        "states:\n", "states:\n  intro:\n    do: [{output_volume_db: 6}, {goto: opening}]\n",
    )  # fmt: skip
    assert lint_script(write(tmp_path, text, "ok.yaml")) == []
    bad = changed('  opening: "您好!', '  opening: "', text=text)
    assert found(write(tmp_path, bad, "bad.yaml")) == [(line_of(bad, OPENING), "greeting")]


# ---- closing -------------------------------------------------------------------------------


def test_hangup_after_a_prompt_without_goodbye_is_reported(tmp_path: Path) -> None:
    old = 'closing_wrong_person: "对不起,打扰您了,祝您生活愉快,再见!"'
    text = changed(old, 'closing_wrong_person: "对不起,打扰您了。"')
    problems = lint_script(write(tmp_path, text))
    assert [(p.line, p.rule) for p in problems] == [(line_of(text, WRONG_PERSON), "closing")]
    assert problems[0].message == (
        "hangup wrong_person: no closing (the last prompt said before it, "
        "'closing_wrong_person', does not contain 再见)"
    )


@pytest.mark.parametrize(
    "actions",
    [
        "{say: closing_wrong_person}, {hangup: wrong_person}",
        "{pause: 2}, {say: closing_wrong_person}, {hangup: wrong_person}",
    ],
)
def test_hangup_without_a_pause_after_the_closing_is_reported(tmp_path: Path, actions: str) -> None:
    text = changed(DENY, actions)
    problems = lint_script(write(tmp_path, text))
    assert [(p.line, p.rule) for p in problems] == [(line_of(text, WRONG_PERSON), "closing")]
    assert problems[0].message.startswith("hangup wrong_person: no pause between the closing")
    assert "no closing" not in problems[0].message


def test_state_entered_by_goto_is_checked_for_its_pause(tmp_path: Path) -> None:
    text = changed(ANSWERED_DO, "do: [{hangup: answered}]")
    problems = lint_script(write(tmp_path, text))
    assert [(p.line, p.rule) for p in problems] == [(line_of(text, "hangup: answered"), "closing")]
    assert problems[0].message.startswith("hangup answered: no pause between the closing")


def test_paths_through_gotos_are_followed_one_by_one(tmp_path: Path) -> None:
    # The closing is said before the goto on the confirm path only; the speech path says nothing.
    text = changed(
        "    say: [thanks_goodbye]\n", "",
        "confirm:\n        - {count: 1, do: [{goto: answered}]}",
        "confirm:\n        - {count: 1, do: [{say: thanks_goodbye}, {goto: answered}]}",
    )  # fmt: skip
    problems = lint_script(write(tmp_path, text))
    assert [(p.line, p.rule) for p in problems] == [(line_of(text, "hangup: answered"), "closing")]
    speech_goto = line_of(text, "speech:") + 1
    assert problems[0].message == (
        "hangup answered: no closing (nothing is said before it), on the path through the goto "
        f"at line {speech_goto}"
    )
    paused = changed(ANSWERED_DO, "do: [{hangup: answered}]", text=text)
    messages = [p.message for p in lint_script(write(tmp_path, paused, "paused.yaml"))]
    assert len(messages) == 2 and all("no pause" in m for m in messages)
    assert sum(f"goto at line {speech_goto}" in m for m in messages) == 1


# ---- scripts the loader rejects ------------------------------------------------------------


def test_rejected_script_gives_only_the_loader_rule(tmp_path: Path) -> None:
    text = changed("{goto: answered}]}\n      deny", "{goto: nowhere}]}\n      deny")
    text = changed(HELLO_AGAIN, '  hello_again: "喂!你好"', text=text)
    path = write(tmp_path, text)
    with pytest.raises(ScriptError) as info:
        load_script(path, {"agent_id": "1", "number": "2"})
    [problem] = lint_script(path)
    assert problem.rule == "unknown-state"
    assert problem.line == line_of(text, "{goto: nowhere}")
    assert str(problem) == str(info.value)


# ---- the command line ----------------------------------------------------------------------


def test_cli_prints_one_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    text = changed(HELLO_AGAIN, '  hello_again: "您好!大声点!"', DENY, "{hangup: wrong_person}")
    path = write(tmp_path, text)
    result = ivr("lint", str(path))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [str(p) for p in lint_script(path)] + [
        "1 script checked: 2 problems in 1 script (closing 1, forbidden-phrase 1)"
    ]
    assert lines[0].startswith(f"{path}:{line_of(text, 'hello_again:')}: forbidden-phrase: ")
    assert lines[1].startswith(f"{path}:{line_of(text, 'hangup: wrong_person')}: closing: ")


def test_cli_several_files_one_bad_does_not_hide_the_others(tmp_path: Path) -> None:
    you = write(tmp_path, changed("谢谢您的接听", "谢谢你的接听"), "a.yaml")
    good = write(tmp_path, OUTBOUND, "b.yaml")
    greet = write(tmp_path, changed('  opening: "您好!', '  opening: "'), "c.yaml")
    result = ivr("lint", str(you), str(good), str(greet))
    assert result.returncode == 1, result.stderr
    line = line_of(OUTBOUND, "  thanks_goodbye:")
    opening = line_of(OUTBOUND, OPENING)
    assert [row.split(": ")[:2] for row in result.stdout.splitlines()] == [
        [f"{you}:{line}", "informal-you"],
        [f"{greet}:{opening}", "greeting"],
        ["3 scripts checked", "2 problems in 2 scripts (greeting 1, informal-you 1)"],
    ]


def test_cli_invalid_yaml_gives_the_loader_rule_and_the_others_are_linted(tmp_path: Path) -> None:
    broken = changed('  pardon: "', "  pardon: @oops ")
    bad = write(tmp_path, broken, "a.yaml")
    phrase = changed(HELLO_AGAIN, '  hello_again: "您好!我不知道"')
    other = write(tmp_path, phrase, "b.yaml")
    with pytest.raises(ScriptError) as info:
        load_script(bad)
    line = line_of(broken, "@oops")
    assert str(info.value).startswith(f"{bad}:{line}: yaml: ")
    [problem] = lint_script(bad)
    assert (problem.line, problem.rule, str(problem)) == (line, "yaml", str(info.value))
    result = ivr("lint", str(tmp_path))  # a folder: its scripts in name order
    assert result.returncode == 1, result.stderr
    assert [row.split(": ")[:2] for row in result.stdout.splitlines()] == [
        [f"{bad}:{line}", "yaml"],
        [f"{other}:{line_of(phrase, 'hello_again:')}", "forbidden-phrase"],
        ["2 scripts checked", "2 problems in 2 scripts (forbidden-phrase 1, yaml 1)"],
    ]


def test_missing_script_is_one_problem_without_a_line(tmp_path: Path) -> None:
    missing = tmp_path / "none.yaml"
    assert lint_script(missing) == [
        LintProblem(str(missing), None, "script", "no such script file")
    ]


# ---- malformed forbidden lists -------------------------------------------------------------

ITEM = '  - text: "喂"\n    source: "s1"\n'


@pytest.mark.parametrize(
    ("text", "needle", "fragment"),
    [
        (ITEM + '  - {text: "喂!", source: "s2"}\n', '"喂!"', "is listed twice (first at line 2)"),
        (ITEM + '  - text: "大 声点"\n    source: s\n  - {text: "大声点!", source: s}\n',
         '"大声点!"', "is listed twice (first at line 4)"),
        (ITEM + '  - text: "x"\n', '"x"', "exactly text and source"),
        (ITEM + '  - text: "!?"\n    source: s\n', '"!?"', "empty once punctuation is removed"),
        (ITEM + "  - 喂喂\n", "喂喂", "expected a mapping"),
        (ITEM + '  - text: "x"\n    source: ""\n', 'source: ""', "source must be non-empty"),
        (ITEM + "  - text: [\n", "", "invalid YAML"),
    ],
    ids=["twice", "twice-spaced", "no-source", "punctuation", "bare", "empty-source", "yaml"],
)  # fmt: skip
def test_malformed_forbidden_list_is_one_error_line_and_exit_2(
    tmp_path: Path, text: str, needle: str, fragment: str
) -> None:
    text = "phrases:\n" + text
    listed = write(tmp_path, text, "forbidden.yaml")
    line = line_of(text, needle) if needle else len(text.splitlines()) + 1  # end of the file
    with pytest.raises(IvrError) as info:
        load_forbidden(listed)
    assert str(info.value).startswith(f"{listed}:{line}: ")
    assert fragment in str(info.value)
    result = ivr("lint", "--forbidden", str(listed), "outbound")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {info.value}\n"


def test_missing_forbidden_list_is_an_error(tmp_path: Path) -> None:
    result = ivr("lint", "--forbidden", str(tmp_path / "none.yaml"), "outbound")
    assert result.returncode == 2
    assert result.stderr == f"error: {tmp_path / 'none.yaml'}: no such forbidden-phrase list\n"

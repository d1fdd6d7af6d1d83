"""Bounded input: a script nested 5,000 deep, a 5,000-digit number,
a script too large, with too many prompts or too long a prompt each give one `file:line:` (or
`file:`) line, never a traceback, both from the loader and from `ivr lint`, and a lint batch
goes on with the other files. The other YAML files a user gives (config, forbidden phrases,
manifest) get the same nesting and number limits.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from pathlib import Path

import pytest
import yaml
from shared import OUTBOUND_VALUES as VALUES
from shared import ROOT, text_writer
from shared import ivr as run_ivr

from ivr.errors import IvrError, ScriptError
from ivr.qa.lint import lint_script
from ivr.script import PROMPTS_DIR, load_script

OUTBOUND = (PROMPTS_DIR / "outbound.yaml").read_text(encoding="utf-8")
HELLO_AGAIN = '  hello_again: "您好!您好!请问能听到吗?"'
QA = "qa: {max_reprompts: 2,"
QA_LINE = "qa: {max_reprompts:"


def changed(old: str, new: str, text: str = OUTBOUND) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


write = text_writer("script.yaml")
ivr = functools.partial(run_ivr, cwd=ROOT, timeout=60)
"""`ivr` in the repository, where the shipped scripts are."""


def line_of(text: str, start: str) -> int:
    """The line (from 1) of the only line of `text` that starts with `start`."""
    [found] = [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(start)]
    return found


def deep_text(depth: int = 5000) -> str:
    """The outbound script with a prompt of `depth` nested flow lists, at its own line."""
    return changed(HELLO_AGAIN, f"  deep: {'[' * depth}{']' * depth}\n{HELLO_AGAIN}")


def long_number_text(digits: int = 5000) -> str:
    """The outbound script whose max_reprompts has `digits` digits."""
    return changed(QA, f"qa: {{max_reprompts: {'9' * digits},")


def extra_prompts(count: int, text: str = "您好") -> str:
    """The outbound script with `count` more prompts (never said)."""
    added = "".join(f'  extra_{n}: "{text}"\n' for n in range(count))
    return changed("prompts:\n", "prompts:\n" + added)


def huge_text(prompts: int = 250_000) -> str:
    """A script with `prompts` prompts (about 17 bytes each) and one state."""
    listed = "".join(f'  p{n}: "您好"\n' for n in range(prompts))
    state = "  s: {say: [p0], do: [{hangup: done}]}\n"
    return f"script: huge\nstart: s\nprompts:\n{listed}states:\n{state}"


# ---- item 10: nesting and long numbers -----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "needle", "message"),
    [
        (deep_text, "  deep:", "lists and mappings nested deeper than 50 levels"),
        (
            long_number_text,
            QA_LINE,
            "a number of 5,000 characters (at most 100 are read; quote it if it is text)",
        ),
    ],
    ids=["nested-5000", "digits-5000"],
)
def test_nesting_and_long_numbers_are_one_line_at_their_line(
    tmp_path: Path, make, needle: str, message: str
) -> None:
    text = make()
    path = write(tmp_path, text, "bad.yaml")
    expected = f"{path}:{line_of(text, needle)}: limit: {message}"
    with pytest.raises(ScriptError) as info:
        load_script(path, VALUES)
    assert str(info.value) == expected
    [problem] = lint_script(path)
    assert (str(problem), problem.rule) == (expected, "limit")


def test_nesting_up_to_the_limit_is_parsed(tmp_path: Path) -> None:
    from ivr.yamlfile import MAX_DEPTH

    # the prompt's value sits at level 3 (top mapping, prompts:, the value): lists to the limit
    # reach the parser, which says a prompt is text; one more level is refused before it.
    at_limit = write(tmp_path, deep_text(MAX_DEPTH - 2), "at.yaml")
    with pytest.raises(ScriptError, match=r":\d+: schema: prompt 'deep' must be non-empty text"):
        load_script(at_limit, VALUES)
    beyond = write(tmp_path, deep_text(MAX_DEPTH - 1), "beyond.yaml")
    with pytest.raises(ScriptError, match=r":\d+: limit: lists and mappings nested deeper"):
        load_script(beyond, VALUES)


def test_nested_mappings_are_refused_as_lists_are(tmp_path: Path) -> None:
    depth = 5000
    text = changed(HELLO_AGAIN, f"  deep: {'{a: ' * depth}1{'}' * depth}\n{HELLO_AGAIN}")
    path = write(tmp_path, text, "bad.yaml")
    with pytest.raises(ScriptError) as info:
        load_script(path, VALUES)
    assert str(info.value).startswith(f"{path}:{line_of(text, '  deep:')}: limit: ")


@pytest.mark.parametrize("kind", ["nested", "digits"])
def test_other_yaml_files_get_the_same_limits(tmp_path: Path, kind: str) -> None:
    from ivr.app.config import load_config
    from ivr.corpus.manifest import ManifestError, load_manifest
    from ivr.qa.phrases import load_forbidden

    bad = "[" * 5000 + "]" * 5000 if kind == "nested" else "9" * 5000
    text = f"version: 1\ncalls:\n  - {bad}\n"
    path = write(tmp_path, text, "bad.yaml")
    message = (
        "lists and mappings nested deeper than 50 levels"
        if kind == "nested"
        else "a number of 5,000 characters (at most 100 are read; quote it if it is text)"
    )
    for load, error in ((load_config, IvrError), (load_forbidden, IvrError)):
        with pytest.raises(error) as info:
            load(path)
        assert str(info.value) == f"{path}:3: {message}", load
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert str(info.value) == f"{path}:3: {message}"


def test_cli_forbidden_list_nested_too_deep_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "phrases: " + "[" * 5000 + "]" * 5000 + "\n", "phrases.yaml")
    result = ivr("lint", "prompts/outbound.yaml", "--forbidden", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: {path}:1: lists and mappings nested deeper than 50 levels\n"


# ---- item 11: size, prompt count, prompt length -------------------------------------------


def test_a_250k_prompt_script_is_refused_by_its_size_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, huge_text(), "huge.yaml")
    size = path.stat().st_size

    def never(*args, **kwargs):
        raise AssertionError("a script above the size limit was parsed")

    monkeypatch.setattr(yaml, "compose", never)
    expected = (
        f"{path}: limit: the file holds {size:,} bytes; a script may hold at most "
        "262,144 bytes (256 KiB)"
    )
    with pytest.raises(ScriptError) as info:
        load_script(path, VALUES)
    assert str(info.value) == expected
    [problem] = lint_script(path)
    assert (str(problem), problem.line, problem.rule) == (expected, None, "limit")


def test_size_limit_is_inclusive(tmp_path: Path) -> None:
    from ivr.script.limits import MAX_SCRIPT_BYTES

    padding = MAX_SCRIPT_BYTES - len(OUTBOUND.encode("utf-8")) - 2
    at_limit = OUTBOUND + "#" + "x" * padding + "\n"
    assert len(at_limit.encode("utf-8")) == MAX_SCRIPT_BYTES
    assert load_script(write(tmp_path, at_limit, "at.yaml"), VALUES).name == "outbound"
    beyond = write(tmp_path, at_limit + "\n", "beyond.yaml")
    with pytest.raises(ScriptError, match=r"beyond\.yaml: limit: the file holds 262,145 bytes"):
        load_script(beyond, VALUES)


def test_a_stream_past_the_size_limit_is_refused_once_the_limit_is_read(tmp_path: Path) -> None:
    """A pipe has no size to check first: its reader stops one byte past the limit. (The
    stream is finite, so that a loader without the limit ends too.)"""
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), pipe.open("wb") as out:
            out.write(b"#" * 300_000 + b"\n")

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    [problem] = lint_script(pipe)
    feeder.join(timeout=10)
    assert str(problem) == (
        f"{pipe}: limit: the file holds more than the 262,144 bytes (256 KiB) a script may hold"
    )


def test_prompt_count_limit(tmp_path: Path) -> None:
    from ivr.script.limits import MAX_PROMPTS

    shipped = len(load_script("outbound", VALUES).prompts)
    at_limit = write(tmp_path, extra_prompts(MAX_PROMPTS - shipped), "at.yaml")
    assert len(load_script(at_limit, VALUES).prompts) == MAX_PROMPTS
    text = extra_prompts(MAX_PROMPTS - shipped + 1)
    beyond = write(tmp_path, text, "beyond.yaml")
    expected = (
        f"{beyond}:{line_of(text, 'prompts:')}: limit: 1,001 prompts; a script may hold at "
        "most 1,000"
    )
    with pytest.raises(ScriptError) as info:
        load_script(beyond, VALUES)
    assert str(info.value) == expected
    assert [str(problem) for problem in lint_script(beyond)] == [expected]


def test_prompt_length_limit(tmp_path: Path) -> None:
    from ivr.script.limits import MAX_PROMPT_CHARS

    at_limit = changed(HELLO_AGAIN, '  hello_again: "您好!' + "请" * (MAX_PROMPT_CHARS - 3) + '"')
    loaded = load_script(write(tmp_path, at_limit, "at.yaml"), VALUES)
    assert len(loaded.prompts["hello_again"]) == MAX_PROMPT_CHARS
    text = changed(HELLO_AGAIN, '  hello_again: "您好!' + "请" * (MAX_PROMPT_CHARS - 2) + '"')
    beyond = write(tmp_path, text, "beyond.yaml")
    expected = (
        f"{beyond}:{line_of(text, '  hello_again:')}: limit: prompt 'hello_again' is 1,001 "
        "characters long; a prompt may be at most 1,000"
    )
    with pytest.raises(ScriptError) as info:
        load_script(beyond, VALUES)
    assert str(info.value) == expected
    assert [str(problem) for problem in lint_script(beyond)] == [expected]


# ---- a lint batch goes on ------------------------------------------------------------------


def test_cli_lint_batch_reports_each_bad_script_in_one_line_and_checks_the_rest(
    tmp_path: Path,
) -> None:
    """Bad files among good ones: one line each, every other script still linted (the last
    one's problem is found), exit 1 (README: exit 1 on any problem), no traceback."""
    informal = changed(HELLO_AGAIN, '  hello_again: "您好!你能听到吗?"')
    files = {
        "a_good.yaml": OUTBOUND,
        "b_nested.yaml": deep_text(),
        "c_digits.yaml": long_number_text(),
        "d_huge.yaml": huge_text(),
        "e_count.yaml": extra_prompts(1001),
        "f_long.yaml": changed(HELLO_AGAIN, '  hello_again: "您好!' + "请" * 1_800_000 + '"'),
        "g_informal.yaml": informal,
    }
    for name, text in files.items():
        write(tmp_path, text, name)
    result = ivr("lint", str(tmp_path))
    assert result.stderr == ""
    assert result.returncode == 1
    rows = [row.split(": ", 2)[:2] for row in result.stdout.splitlines()]
    deep = line_of(files["b_nested.yaml"], "  deep:")
    digits = line_of(files["c_digits.yaml"], QA_LINE)
    count = line_of(files["e_count.yaml"], "prompts:")
    hello = line_of(informal, "  hello_again:")
    assert rows == [
        [f"{tmp_path}/b_nested.yaml:{deep}", "limit"],
        [f"{tmp_path}/c_digits.yaml:{digits}", "limit"],
        [f"{tmp_path}/d_huge.yaml", "limit"],
        [f"{tmp_path}/e_count.yaml:{count}", "limit"],
        [f"{tmp_path}/f_long.yaml", "limit"],
        [f"{tmp_path}/g_informal.yaml:{hello}", "informal-you"],
        ["7 scripts checked", "6 problems in 6 scripts (informal-you 1, limit 5)"],
    ]


def test_cli_command_loading_a_script_over_a_limit_stops_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, huge_text(), "huge.yaml")
    result = ivr("prompts", "render", "--script", str(path))
    assert result.returncode != 0
    assert result.stderr == (
        f"error: {path}: limit: the file holds {path.stat().st_size:,} bytes; a script may hold "
        "at most 262,144 bytes (256 KiB)\n"
    )

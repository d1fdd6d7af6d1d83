"""Loading call scripts: find the file, compose its YAML, parse, validate, fill placeholders.

A script is a YAML file (see `prompts/*.yaml`): its prompts (id -> Chinese text with
`{placeholders}`), `defaults: listen:` merged into every listening state, and its states (a
listening state may declare `intents:`, phrases its `on:` handlers answer by intent name). Every
fault is a `ScriptError` of one line, `<file>:<line>: <rule>: <message>`, with rules `limit`
(the file's size, nesting, a number's length, the prompts' count and length: see
`ivr.script.limits`; the size as `<file>: limit: ...`, with no line) and `yaml` (checked
before parsing), `schema`, `timeout`, `placeholder` (checked while parsing), then
`unknown-prompt`, `unknown-state`, `no-exit`, `unreachable-state`, `endless-loop` (see
`ivr.script.validate`), and last the placeholder values.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

import ivr
from ivr.errors import ScriptError
from ivr.script.limits import check_prompts, read_script_bytes
from ivr.script.model import Script
from ivr.script.parse import parse_document
from ivr.script.placeholders import fill, option_for, placeholder_names
from ivr.script.source import script_error
from ivr.script.validate import validate
from ivr.yamlfile import YamlLimitError, compose_yaml

PROMPTS_DIR = Path(ivr.__file__).parent.parent / "prompts"
"""Where the bundled scripts live: a bare script name `x` means `PROMPTS_DIR/x.yaml`."""

SUFFIXES = (".yaml", ".yml")


def script_path(name: str | Path) -> Path:
    """The file of a script. A bare name (no folder, no .yaml/.yml suffix), like `outbound`,
    is the bundled `prompts/<name>.yaml`; anything else is a path as given."""
    text = str(name)
    if isinstance(name, Path) or "/" in text or "\\" in text or text.endswith(SUFFIXES):
        return Path(name)
    return PROMPTS_DIR / f"{text}.yaml"


NOT_CALL_SCRIPTS = {
    "forbidden.yaml": "the forbidden-phrase list",
    "service_words.yaml": "the service words ivr audit listens for",
}
"""Files beside the scripts that are data, not call scripts, and what each is: the
forbidden-phrase list (`ivr.qa.phrases`), the greetings, closings and politeness words of
`ivr audit` (`ivr.audit.words`)."""


def is_call_script_file(path: Path) -> bool:
    """Whether `path` may be a call script by its name: *.yaml or *.yml, and not one of
    `NOT_CALL_SCRIPTS`."""
    return path.suffix in SUFFIXES and path.name not in NOT_CALL_SCRIPTS


def list_scripts() -> list[str]:
    """The names of the bundled call scripts (not the forbidden-phrase list), sorted: what a
    bare `--script NAME` can be."""
    return sorted(
        path.stem
        for path in PROMPTS_DIR.glob("*.yaml")
        if path.is_file() and is_call_script_file(path)
    )


def _is_bundled(path: Path) -> bool:
    """Whether `path` is in the bundled scripts' folder."""
    return path.parent.resolve() == PROMPTS_DIR.resolve()


def bundled_hint(name: str) -> str:
    """What to say of a script `name` that is none: the closest bundled name, if one is close,
    and every bundled name, e.g. ` (did you mean 'outbound'?); bundled scripts: inbound, ...`."""
    names = list_scripts()
    close = difflib.get_close_matches(Path(name).stem, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; bundled scripts: {', '.join(names) or 'none'}"


def unknown_script(path: Path) -> ScriptError:
    """The error for a script file `path` that does not exist; one in the bundled folder
    suggests the closest bundled name and lists them all."""
    if not _is_bundled(path):
        return ScriptError(f"{path}: no such script file")
    return ScriptError(f"{path}: no such script file{bundled_hint(path.stem)}")


def load_script(
    path_or_name: str | Path,
    values: Mapping[str, str] | None = None,
    given_by: Callable[[str], str] = option_for,
) -> Script:
    """Load, validate and fill in a script (a bundled name like `outbound`, or a path).

    `values` give the prompts' `{placeholders}` and win over the file's `placeholders:`
    defaults; a value of None counts as not given, and `agent-id` means `agent_id`;
    `given_by(name)` says what gives a missing one (default: its option, `--agent-id`). Raises
    `ScriptError` (one line) naming the file, the line and the rule broken.
    """
    path = script_path(path_or_name)
    shown = str(path)
    parsed = parse_document(compose_script(path), shown)
    validate(parsed.script, parsed.source)
    given = {
        name.replace("-", "_"): str(value)
        for name, value in (values or {}).items()
        if value is not None
    }
    known = {name: value for name, value in parsed.defaults.items() if value is not None}
    known.update(given)
    missing: dict[str, str] = {}
    for prompt_id, text in parsed.script.prompts.items():
        for name in placeholder_names(text):
            if name not in known:
                missing.setdefault(name, prompt_id)
    if missing:
        first = next(iter(missing.values()))
        names = ", ".join("{" + name + "}" for name in missing)
        options = " and ".join(given_by(name) for name in missing)
        raise script_error(
            shown,
            parsed.source.prompts[first],
            "placeholder",
            f"no value for {names} (first used by prompt {first!r}): give {options} (or a "
            "default in the script's placeholders section)",
        )
    prompts = {prompt_id: fill(text, known) for prompt_id, text in parsed.script.prompts.items()}
    return dataclasses.replace(parsed.script, prompts=prompts, templates=parsed.script.prompts)


def load_script_structure(path_or_name: str | Path) -> Script:
    """Load and validate a script for its states and handlers only: its prompts keep their
    `{placeholders}` unfilled (for tools that judge audio against a script's rules)."""
    path = script_path(path_or_name)
    parsed = parse_document(compose_script(path), str(path))
    validate(parsed.script, parsed.source)
    return parsed.script


def compose_script(path: Path) -> yaml.Node | None:
    """The composed YAML document of script file `path` (nodes keep their lines); ScriptError
    if it does not exist (see `unknown_script`), is the bundled forbidden-phrase list, is
    unreadable, not YAML (`yaml`) or beyond a limit of `ivr.script.limits` or `ivr.yamlfile`
    (`limit`), the file's size checked before it is read."""
    if _is_bundled(path) and path.name in NOT_CALL_SCRIPTS:
        raise ScriptError(
            f"{path}: not a call script ({NOT_CALL_SCRIPTS[path.name]}); bundled scripts: "
            f"{', '.join(list_scripts())}"
        )
    try:
        data = read_script_bytes(path)
    except FileNotFoundError:
        raise unknown_script(path) from None
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read the script: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise script_error(str(path), line, "yaml", "the file is not UTF-8 text") from None
    try:
        root = compose_yaml(text)
    except YamlLimitError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        raise script_error(str(path), line, "limit", str(exc.problem)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise script_error(str(path), line, "yaml", f"{problem}{context}") from None
    except yaml.YAMLError as exc:
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else 1
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        raise script_error(str(path), line, "yaml", str(reason)) from None
    check_prompts(root, str(path))
    return root

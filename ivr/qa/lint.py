"""Linting call scripts against the service standard: what the prompts say and how long a state
waits for input, not how a call runs.

Every problem is one `LintProblem` naming the file, the line and the rule broken:
- `forbidden-phrase`: a prompt contains a forbidden phrase (服务禁语, `prompts/forbidden.yaml`),
  compared after `normalize` (full-/half-width folded, spaces and punctuation removed);
- `informal-you`: a prompt addresses the customer as 你 instead of 您;
- `greeting`: the first prompt of the call does not start with a greeting (您好);
- `closing`: a hang-up is not preceded by a closing that says 再见 and then a pause (seed 000:
  "……再见!停顿2秒,然后挂机"); the actions before a hang-up are those of its handler or `do:`,
  and for a state that does not listen, its own prompts and, before them, what led there by a
  `goto`;
- `noinput-wait`: a listening state's no-input wait (`noinput_timeout_s`, s, its own or from
  `defaults: listen:`, reported at the line giving it) lies outside the range the script's
  standard allows before a re-prompt (`qa: noinput_s: [low, high]`, s; seed 000: 3秒左右);
- a script the loader rejects gives the loader's rule (`schema`, `unknown-state`, ...) and
  nothing else.
Prompts are checked as written, placeholders left out (a placeholder's value is not a phrase
the script chose). The phrases the callee says (`intents:`) are not checked.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.errors import ScriptError
from ivr.qa.phrases import (
    CLOSING_WORD,
    GREETINGS,
    ForbiddenPhrase,
    find_forbidden,
    load_forbidden,
    plain_template,
)
from ivr.script.loader import (
    PROMPTS_DIR,
    compose_script,
    is_call_script_file,
    load_script,
    script_path,
)
from ivr.script.model import Action, Goto, HangupAction, Pause, Say, Script
from ivr.script.parse import parse_document
from ivr.script.placeholders import placeholder_names
from ivr.script.source import Source

INFORMAL_YOU = "你"
"""The informal second person; the customer is addressed as 您."""
RULES = ("forbidden-phrase", "informal-you", "greeting", "closing", "noinput-wait")


@dataclass(frozen=True)
class LintProblem:
    """One problem: `file:line: rule: message` (line None when the file has no line to show)."""

    file: str
    line: int | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.rule}: {self.message}"


def lint_script(
    path: str | Path, forbidden: Sequence[ForbiddenPhrase] | None = None
) -> list[LintProblem]:
    """Every problem of the script file `path`, sorted by line. `forbidden` defaults to the
    bundled list. A script the loader rejects gives one problem with the loader's rule."""
    shown = str(path)
    try:
        script, source, root = _load(Path(path))
    except ScriptError as exc:
        return [_from_script_error(shown, str(exc))]
    phrases = load_forbidden() if forbidden is None else list(forbidden)
    problems = [
        *_check_prompts(script, source, phrases),
        *_check_greeting(script, source),
        *_check_closings(script, source),
        *_check_noinput_waits(script, source, root),
    ]
    return sorted(problems, key=lambda p: (p.line or 0, RULES.index(p.rule), p.message))


def script_files(paths: Iterable[str | Path]) -> list[Path]:
    """The script files `paths` stand for: a folder is its *.yaml/*.yml scripts (sorted,
    without forbidden.yaml), a bare name like `outbound` is the bundled script, anything else
    is the file as given; no paths means every bundled script."""
    given = list(paths) or [PROMPTS_DIR]
    out: list[Path] = []
    for item in given:
        path = Path(item)
        if path.is_dir():
            out.extend(
                sorted(
                    child
                    for child in path.iterdir()
                    if is_call_script_file(child) and child.is_file()
                )
            )
        elif path.exists():
            out.append(path)
        else:
            out.append(script_path(str(item)))
    return out


def lint_paths(
    paths: Iterable[str | Path], forbidden: Sequence[ForbiddenPhrase] | None = None
) -> list[LintProblem]:
    """Every problem of every script `paths` stand for (see `script_files`), file by file."""
    phrases = load_forbidden() if forbidden is None else list(forbidden)
    return [problem for path in script_files(paths) for problem in lint_script(path, phrases)]


def _load(path: Path) -> tuple[Script, Source, yaml.Node]:
    """The script (prompt texts as written, placeholders kept), its lines and its YAML nodes;
    ScriptError for any fault the loader finds, exactly as a call would report it."""
    root = compose_script(path)  # bounded (ivr.script.limits), and the loader's messages
    parsed = parse_document(root, str(path))
    dummy = {
        name: "0" for text in parsed.script.prompts.values() for name in placeholder_names(text)
    }
    load_script(path, dummy)  # every validation rule of the loader
    return parsed.script, parsed.source, root


def _from_script_error(shown: str, message: str) -> LintProblem:
    match = re.fullmatch(r"(?:(\d+): )?([a-z-]+): (.*)", message.removeprefix(f"{shown}:").strip())
    if message.startswith(f"{shown}:") and match:
        return LintProblem(shown, int(match[1]) if match[1] else None, match[2], match[3])
    return LintProblem(shown, None, "script", message.removeprefix(f"{shown}: "))


def _check_prompts(
    script: Script, source: Source, phrases: Sequence[ForbiddenPhrase]
) -> list[LintProblem]:
    out = []
    for prompt_id, template in script.prompts.items():
        line = source.prompts.get(prompt_id)
        for phrase in find_forbidden(template, phrases):
            out.append(
                LintProblem(
                    script.path,
                    line,
                    "forbidden-phrase",
                    f"prompt {prompt_id!r} contains the forbidden phrase {phrase.text!r} "
                    f"({phrase.source})",
                )
            )
        folded = unicodedata.normalize("NFKC", _as_said(template))
        if INFORMAL_YOU in folded:
            at = folded.index(INFORMAL_YOU)
            context = folded[max(0, at - 4) : at + 5]
            out.append(
                LintProblem(
                    script.path,
                    line,
                    "informal-you",
                    f"prompt {prompt_id!r} says {INFORMAL_YOU} ({context!r}, "
                    f"{folded.count(INFORMAL_YOU)} time(s)): address the customer as 您",
                )
            )
    return out


def _as_said(template: str) -> str:
    """A prompt text as written, each placeholder shown as `{}`: its name is not said."""
    parts = string.Formatter().parse(template)
    return "".join(literal + ("{}" if name is not None else "") for literal, name, _, _ in parts)


def _first_prompt(script: Script, source: Source) -> tuple[str | None, int, str]:
    """The first prompt the call says (or None), the line that says it, the state saying it.
    Follows a start state that only acts through its `do:` up to a goto."""
    state_name, seen = script.start, set()
    while state_name not in seen:
        seen.add(state_name)
        state = script.states[state_name]
        if state.say:
            return state.say[0], source.say[(state_name, 0)], state_name
        if state.listen is not None:
            break
        for index, action in enumerate(state.actions):
            if isinstance(action, Say):
                return action.prompt, source.actions[(state_name, None, 0, index)], state_name
            if isinstance(action, Goto):
                state_name = action.state
                break
        else:
            break
    return None, source.states[state_name], state_name


def _check_greeting(script: Script, source: Source) -> list[LintProblem]:
    prompt_id, said_at, state = _first_prompt(script, source)
    if prompt_id is None:
        return [
            LintProblem(
                script.path,
                said_at,
                "greeting",
                f"the call says nothing before state {state!r} listens or hangs up: the first "
                f"prompt must start with a greeting ({' or '.join(GREETINGS)})",
            )
        ]
    text = plain_template(script.prompts[prompt_id])
    if text.startswith(GREETINGS):
        return []
    return [
        LintProblem(
            script.path,
            source.prompts.get(prompt_id, said_at),
            "greeting",
            f"prompt {prompt_id!r}, the first the call says (state {state!r}, line {said_at}), "
            f"does not start with a greeting: begin it with {' or '.join(GREETINGS)}",
        )
    ]


@dataclass(frozen=True)
class _Entry:
    """A way into a state that does not listen: the actions run before its `goto`, and the
    state running them if it does not listen either (None for a listening state's handler)."""

    actions: tuple[Action, ...]
    state: str | None
    origin: str
    goto_line: int


@dataclass(frozen=True)
class _Verdict:
    """What one path to a hang-up said last before it."""

    prompt: str | None
    """The last prompt said before the hang-up (None: nothing)."""
    closing: bool
    pause: bool
    """A pause above 0 s between that prompt (or the start of the path) and the hang-up."""
    via: int | None
    """Line of the goto into the hang-up's state on this path (None: the same handler/do)."""


@dataclass(frozen=True)
class _Run:
    """A list of actions run in one go: a state's own prompts and `do:` (a state that does not
    listen), or one handler of a listening state."""

    state: str
    actions: tuple[Action, ...]
    """The state's prompts as `Say`s (first `said` of them), then the listed actions."""
    said: int
    owner: str | None
    """The state if it does not listen (what led into it comes before), else None."""
    key: tuple[str | None, int]
    """(event or None for `do:`, handler count or 0): with the state, the source key."""
    origin: str

    def line(self, source: Source, index: int) -> int:
        """Line of the action at `index` of `actions` (a listed one, not a prompt)."""
        return source.actions[(self.state, *self.key, index - self.said)]


def _runs(script: Script) -> list[_Run]:
    out = []
    for name, state in script.states.items():
        if state.listen is None:
            said = tuple(Say(prompt) for prompt in state.say)
            out.append(
                _Run(name, said + state.actions, len(said), name, (None, 0), f"state {name!r}")
            )
        for event, handlers in state.handlers.items():
            for handler in handlers:
                label = event if handler.key is None else f"{event}:{handler.key}"
                origin = f"state {name!r}: {label}"
                out.append(_Run(name, handler.actions, 0, None, (label, handler.count), origin))
    return out


def _check_closings(script: Script, source: Source) -> list[LintProblem]:
    runs = _runs(script)
    entries: dict[str, list[_Entry]] = {}
    for run in runs:
        for index, action in enumerate(run.actions):
            if isinstance(action, Goto) and script.states[action.state].listen is None:
                entries.setdefault(action.state, []).append(
                    _Entry(run.actions[:index], run.owner, run.origin, run.line(source, index))
                )
    out = []
    for run in runs:
        for index, action in enumerate(run.actions):
            if not isinstance(action, HangupAction):
                continue
            verdicts = _verdicts(script, entries, run.actions[:index], run.owner, frozenset())
            messages = dict.fromkeys(
                message for verdict in verdicts if (message := _closing_message(action, verdict))
            )
            line = run.line(source, index)
            out.extend(LintProblem(script.path, line, "closing", message) for message in messages)
    return out


def _verdicts(
    script: Script,
    entries: dict[str, list[_Entry]],
    before: tuple[Action, ...],
    owner: str | None,
    seen: frozenset[str],
) -> list[_Verdict]:
    """What each path ending in the actions `before` (run by state `owner` if it does not
    listen) said last, and whether it paused after that."""
    pause = False
    for action in reversed(before):
        if isinstance(action, Pause) and action.seconds > 0:
            pause = True
        elif isinstance(action, Say):
            closing = CLOSING_WORD in plain_template(script.prompts.get(action.prompt, ""))
            return [_Verdict(action.prompt, closing, pause, None)]
    if owner is None:
        return [_Verdict(None, False, pause, None)]
    out = []
    if owner == script.start:
        out.append(_Verdict(None, False, pause, None))
    for entry in entries.get(owner, ()):
        if entry.state is not None and entry.state in seen | {owner}:
            continue  # a loop of states that only act: it is not a new path
        for verdict in _verdicts(script, entries, entry.actions, entry.state, seen | {owner}):
            out.append(
                _Verdict(
                    verdict.prompt,
                    verdict.closing,
                    verdict.pause or pause,
                    verdict.via if verdict.via is not None else entry.goto_line,
                )
            )
    return out


def _closing_message(hangup: HangupAction, verdict: _Verdict) -> str | None:
    if verdict.closing and verdict.pause:
        return None
    missing = []
    if not verdict.closing:
        said = (
            f"the last prompt said before it, {verdict.prompt!r}, does not contain {CLOSING_WORD}"
            if verdict.prompt is not None
            else "nothing is said before it"
        )
        missing.append(f"no closing ({said})")
    if not verdict.pause:
        missing.append(
            "no pause between the closing and the hang-up (seed 000: 再见!停顿2秒,然后挂机; "
            "add {pause: 2} before it)"
        )
    path = f", on the path through the goto at line {verdict.via}" if verdict.via else ""
    return f"hangup {hangup.outcome}: {' and '.join(missing)}{path}"


def _key_line(node: yaml.Node, *keys: str) -> int | None:
    """Line (from 1) of the last of `keys`, followed down nested mappings from `node`; None if
    one is missing."""
    line = None
    for key in keys:
        pairs = node.value if isinstance(node, yaml.MappingNode) else ()
        key_node, node = next(((k, v) for k, v in pairs if k.value == key), (None, None))
        if key_node is None:
            return None
        line = key_node.start_mark.line + 1
    return line


def _check_noinput_waits(script: Script, source: Source, root: yaml.Node) -> list[LintProblem]:
    """`noinput-wait`: each listening state whose noinput_timeout_s (s) lies outside the
    script's `qa: noinput_s` range, at the line giving the value (the state's own, else the
    default's); none when the script gives no range."""
    allowed, out = script.qa_noinput_s, []
    default = _key_line(root, "defaults", "listen", "noinput_timeout_s")
    for name, state in script.states.items():
        if allowed is None or state.listen is None or state.listen.noinput_timeout_s in allowed:
            continue
        own = _key_line(root, "states", name, "listen", "noinput_timeout_s")
        what = f"state {name!r}" + ("" if own else f" (line {state.line})")
        origin = "its noinput_timeout_s" if own else "noinput_timeout_s from defaults: listen:"
        message = (
            f"{what} waits {state.listen.noinput_timeout_s:g} s for input ({origin}), outside "
            f"the {allowed} the {script.direction} standard allows before a re-prompt "
            f"(qa: noinput_s at line {allowed.line})"
        )
        line = own or default or source.listen.get(name)
        out.append(LintProblem(script.path, line, "noinput-wait", message))
    return out

"""Rules between the parts of a parsed script, checked in this order:

- `unknown-prompt`: a say names a prompt id that does not exist;
- `unknown-state`: `start` or a goto names a state that does not exist;
- `no-exit`: actions after a goto or hangup never run; a state that does not listen must end
  its `do:` in a goto or hangup;
- `unreachable-state`: no chain of gotos leads from `start` to the state;
- `endless-loop`: a line that never gives the callee's answer (silence, too quiet, noise, speech
  cutting in and out, not understood) must end in a hang-up, and so must a callee who says one
  of the state's intents (e.g. 听不清) again and again. In every listening state the
  highest-count handler of each such event and of each intent must hang up or leave the state,
  `noinput` must be handled, and the gotos taken on such events and intents (and by states that
  do not listen) must not form a cycle: counters reset on entering a state, so such a cycle
  repeats forever. Cycles through `speech` handlers are fine: the callee is answering.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable, Iterator

from ivr.script.model import (
    HOLD_PROMPTS,
    STILL_LISTENING_PROMPT,
    Action,
    Goto,
    HangupAction,
    Hold,
    Pause,
    Say,
    Script,
    SetInputGain,
    SetOutputVolume,
    State,
)
from ivr.script.source import Source
from ivr.vocabulary import NO_PROGRESS_EVENTS

ActionList = tuple[State, str | None, int, tuple[Action, ...]]
"""(state, event or None for its `do:`, handler count or 0, actions)."""


def validate(script: Script, src: Source) -> None:
    """Raise the one-line ScriptError of the first rule `script` breaks (see the module doc)."""
    _check_prompts(script, src)
    _check_states(script, src)
    _check_exits(script, src)
    _check_reachable(script, src)
    _check_loops(script, src)


def _action_lists(script: Script) -> Iterator[ActionList]:
    """Every action list of the script, state by state in file order."""
    for state in script.states.values():
        if state.listen is None:
            yield state, None, 0, state.actions
        for event, handlers in state.handlers.items():
            for handler in handlers:
                label = event if handler.key is None else f"{event}:{handler.key}"
                yield state, label, handler.count, handler.actions


def _where(state: State, event: str | None, count: int) -> str:
    if event is None:
        return f"state {state.name!r}: do"
    return f"state {state.name!r}: {event} handler (count {count})"


def _hint(name: str, known: Iterable[str], what: str) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; {what}: {', '.join(known)}"


def _describe(action: Action) -> str:
    if isinstance(action, Say):
        return f"say {action.prompt!r}"
    if isinstance(action, Pause):
        return f"pause {action.seconds:g} s"
    if isinstance(action, SetInputGain):
        return f"input_gain_db {action.db:g}"
    if isinstance(action, SetOutputVolume):
        return f"output_volume_db {action.db:g}"
    if isinstance(action, Goto):
        return f"goto {action.state!r}"
    if isinstance(action, Hold):
        return f"hold {action.seconds:g} s"
    return f"hangup {action.outcome!r}"


def _targets(action: Action) -> list[str]:
    """The states an action can go to: a goto's, a hold's call-back state."""
    if isinstance(action, Goto):
        return [action.state]
    if isinstance(action, Hold) and action.callback is not None:
        return [action.callback]
    return []


def _check_prompts(script: Script, src: Source) -> None:
    for state in script.states.values():
        for index, prompt in enumerate(state.say):
            if prompt not in script.prompts:
                src.fail(
                    src.say[(state.name, index)],
                    "unknown-prompt",
                    f"state {state.name!r} says unknown prompt {prompt!r}"
                    + _hint(prompt, script.prompts, "prompts"),
                )
    for state in script.states.values():
        cue = state.listen is not None and state.listen.still_listening_after_s is not None
        if cue and STILL_LISTENING_PROMPT not in script.prompts:
            src.fail(
                src.listen[state.name],
                "unknown-prompt",
                f"state {state.name!r} has still_listening_after_s but the script has no "
                f"prompt {STILL_LISTENING_PROMPT!r} (seed 000 三、6: 我在听,您尽管说!)",
            )
    for state, event, count, actions in _action_lists(script):
        for index, action in enumerate(actions):
            missing = [p for p in HOLD_PROMPTS if p not in script.prompts]
            if isinstance(action, Hold) and missing:
                src.fail(
                    src.actions[(state.name, event, count, index)],
                    "unknown-prompt",
                    f"{_where(state, event, count)} puts the callee on hold, but the script "
                    f"has no prompt {', '.join(map(repr, missing))} (a hold says "
                    f"{', '.join(HOLD_PROMPTS)})",
                )
            if isinstance(action, Say) and action.prompt not in script.prompts:
                src.fail(
                    src.actions[(state.name, event, count, index)],
                    "unknown-prompt",
                    f"{_where(state, event, count)} says unknown prompt {action.prompt!r}"
                    + _hint(action.prompt, script.prompts, "prompts"),
                )


def _check_states(script: Script, src: Source) -> None:
    if script.start not in script.states:
        src.fail(
            src.start,
            "unknown-state",
            f"start names unknown state {script.start!r}"
            + _hint(script.start, script.states, "states"),
        )
    leave = script.amd.leave_message if script.amd is not None else None
    if leave is not None and leave not in script.states:
        src.fail(
            src.amd_leave_message,
            "unknown-state",
            f"amd: leave_message names unknown state {leave!r}"
            + _hint(leave, script.states, "states"),
        )
    for state, event, count, actions in _action_lists(script):
        for index, action in enumerate(actions):
            for target in _targets(action):
                if target in script.states:
                    continue
                src.fail(
                    src.actions[(state.name, event, count, index)],
                    "unknown-state",
                    f"{_where(state, event, count)} goes to unknown state {target!r}"
                    + _hint(target, script.states, "states"),
                )


def _check_exits(script: Script, src: Source) -> None:
    for state, event, count, actions in _action_lists(script):
        for index, action in enumerate(actions[:-1]):
            if isinstance(action, Goto | HangupAction):
                src.fail(
                    src.actions[(state.name, event, count, index + 1)],
                    "no-exit",
                    f"{_where(state, event, count)}: {_describe(actions[index + 1])} after "
                    f"{_describe(action)} never runs",
                )
        if event is None and not (actions and isinstance(actions[-1], Goto | HangupAction)):
            line = (
                src.actions[(state.name, None, 0, len(actions) - 1)]
                if actions
                else src.do[state.name]
            )
            src.fail(
                line,
                "no-exit",
                f"state {state.name!r} does not listen, so its do: must end in goto or hangup; "
                "otherwise the call has nowhere to go",
            )


def _check_reachable(script: Script, src: Source) -> None:
    targets: dict[str, list[str]] = {name: [] for name in script.states}
    for state, _event, _count, actions in _action_lists(script):
        targets[state.name] += [t for a in actions for t in _targets(a)]
    seen = {script.start}
    queue = deque([script.start])
    if script.amd is not None and script.amd.leave_message is not None:
        seen.add(script.amd.leave_message)
        queue.append(script.amd.leave_message)
    while queue:
        for target in targets[queue.popleft()]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    for name in script.states:
        if name not in seen:
            src.fail(
                src.states[name],
                "unreachable-state",
                f"state {name!r} cannot be reached from start {script.start!r}: no chain of "
                "gotos leads to it",
            )


def _no_progress(state: State) -> tuple[str, ...]:
    """The events of `state` that can repeat without the callee ever answering: the fixed
    no-progress events and the state's intents."""
    return (*NO_PROGRESS_EVENTS, *state.intents)


def _check_loops(script: Script, src: Source) -> None:
    for state in script.states.values():
        if state.listen is None:
            continue
        for event in _no_progress(state):
            handlers = state.handlers.get(event, ())
            if not handlers:
                if event == "noinput":
                    src.fail(
                        src.listen[state.name],
                        "endless-loop",
                        f"state {state.name!r} listens but has no noinput handler, so on a "
                        "silent line it listens forever; add on: noinput: handlers ending in "
                        "hangup",
                    )
                continue
            last = handlers[-1]
            if not (last.actions and isinstance(last.actions[-1], Goto | HangupAction)):
                forever = f"{event} repeating forever keeps the call here"
                if event in state.intents:
                    example = state.intents[event][0]
                    forever = (
                        f"a callee who keeps saying the intent {event} (e.g. {example!r}) keeps "
                        "the call here forever"
                    )
                src.fail(
                    last.line,
                    "endless-loop",
                    f"state {state.name!r}: its last {event} handler (count {last.count}, line "
                    f"{last.line}) neither hangs up nor leaves the state, so {forever}; end that "
                    "handler with hangup",
                )
    cycle = _no_progress_cycle(script, src)
    if cycle:
        names = " -> ".join([name for name, _line in cycle] + [cycle[0][0]])
        lines = ", ".join(str(line) for _name, line in cycle)
        src.fail(
            cycle[0][1],
            "endless-loop",
            f"{names}: the gotos ({'line' if len(cycle) == 1 else 'lines'} {lines}) are taken "
            "without an answer from the callee "
            f"({', '.join(NO_PROGRESS_EVENTS)}, an intent or do:) and never hang up; counters "
            "reset on entering a state, so the loop repeats forever",
        )


def _no_progress_edges(script: Script, src: Source) -> dict[str, list[tuple[str, int]]]:
    """State -> (target, line of the goto) for gotos taken without the callee answering (on a
    no-progress event, an intent, or by a state that does not listen)."""
    edges: dict[str, list[tuple[str, int]]] = {name: [] for name in script.states}
    for state, event, count, actions in _action_lists(script):
        if event is not None and event not in _no_progress(state):
            continue
        for index, action in enumerate(actions):
            if isinstance(action, Goto):
                line = src.actions[(state.name, event, count, index)]
                edges[state.name].append((action.state, line))
    return edges


def _no_progress_cycle(script: Script, src: Source) -> list[tuple[str, int]] | None:
    """The shortest cycle of no-progress gotos through the first state (in file order) on one,
    as (state, line of the goto leaving it); None without such a cycle."""
    edges = _no_progress_edges(script, src)
    for first in script.states:
        parent: dict[str, tuple[str, int]] = {}
        queue = deque([first])
        while queue:
            name = queue.popleft()
            for target, line in edges[name]:
                if target in parent:
                    continue
                parent[target] = (name, line)
                if target == first:
                    return _unwind(parent, first)
                queue.append(target)
    return None


def _unwind(parent: dict[str, tuple[str, int]], first: str) -> list[tuple[str, int]]:
    path = []
    name = first
    while True:
        previous, line = parent[name]
        path.append((previous, line))
        name = previous
        if name == first:
            return path[::-1]

"""Where each part of a script sits in its file, and the one-line `ScriptError` that points there.

Every validation message has the form `<file>:<line>: <rule>: <message>` (lines from 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

from ivr.errors import ScriptError

ActionKey = tuple[str, str | None, int, int]
"""(state, event or intent, or None for the state's own `do:`; handler count or 0; index in the
list)."""
PhraseKey = tuple[str, str, int]
"""(state, intent, index of the phrase in the intent's list)."""


def script_error(path: str, line: int | None, rule: str, message: str) -> ScriptError:
    """A `ScriptError` reading `path:line: rule: message`, folded onto one line."""
    where = f"{path}:{line}" if line is not None else path
    text = f"{where}: {rule}: {message}"
    return ScriptError(" ".join(text.splitlines()))


@dataclass
class Source:
    """The line (from 1) of every named part of one script file, for messages."""

    path: str
    start: int = 1
    """Line of the `start:` key."""
    prompts: dict[str, int] = field(default_factory=dict)
    """Prompt id -> line of its key."""
    states: dict[str, int] = field(default_factory=dict)
    """State name -> line of its key."""
    say: dict[tuple[str, int], int] = field(default_factory=dict)
    """(state, index in its `say:`) -> line of that prompt id."""
    listen: dict[str, int] = field(default_factory=dict)
    """State -> line of its `listen:` key."""
    do: dict[str, int] = field(default_factory=dict)
    """State -> line of its `do:` key."""
    intents: dict[str, int] = field(default_factory=dict)
    """State -> line of its `intents:` key."""
    phrases: dict[PhraseKey, int] = field(default_factory=dict)
    """Line of every intent phrase (see `PhraseKey`)."""
    actions: dict[ActionKey, int] = field(default_factory=dict)
    """Line of every action (see `ActionKey`)."""
    amd_leave_message: int = 0
    """Line of `amd: leave_message` (0: not given)."""

    def fail(self, line: int | None, rule: str, message: str) -> NoReturn:
        """Raise the one-line `ScriptError` for `rule` broken at `line` of this file."""
        raise script_error(self.path, line, rule, message)

"""The part of the script parser that reads lists of actions: a state's `do:` and a handler's
`do:`."""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, SequenceNode

from ivr.script.model import (
    Action,
    Goto,
    HangupAction,
    Pause,
    Say,
    SetInputGain,
    SetOutputVolume,
)
from ivr.script.nodes import NodeReader, kind, line
from ivr.script.parse_line import LineReader
from ivr.script.source import Source

ACTION_KEYS = ("say", "pause", "input_gain_db", "output_volume_db", "goto", "hangup", "hold")
OUTCOME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""A hang-up outcome label: a word such as no_answer."""


class ActionReader:
    """Reads lists of actions; notes the line of every action in `src`."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.read = NodeReader(src)
        self.line = LineReader(src)

    def actions(
        self, node: Node, what: str, key: tuple[str, str | None, int]
    ) -> tuple[Action, ...]:
        """A list of actions; `key` (state, event, count) files their lines in the source."""
        if not isinstance(node, SequenceNode):
            self.read.fail(node, "schema", f"{what} must be a list of actions, got {kind(node)}")
        out = []
        for index, item in enumerate(node.value):
            self.src.actions[(*key, index)] = line(item)
            out.append(self.action(item, what))
        return tuple(out)

    def action(self, node: Node, what: str) -> Action:
        """One action: a mapping with exactly one key of ACTION_KEYS."""
        if not isinstance(node, MappingNode) or len(node.value) != 1:
            got = kind(node)
            if isinstance(node, MappingNode):
                keys = ", ".join(str(key.value) for key, _value in node.value)
                got = f"keys {keys}" if keys else "an empty mapping"
            self.read.fail(
                node,
                "schema",
                f"{what}: an action is a mapping with exactly one key of "
                f"{', '.join(ACTION_KEYS)}; got {got}",
            )
        entries = self.read.mapping(node, what, ACTION_KEYS, key_kind="action")
        ((action, (_key, value)),) = entries.items()
        if action == "say":
            return Say(self.read.text(value, "say"))
        if action == "pause":
            return Pause(self.read.seconds(value, "pause"))
        if action == "input_gain_db":
            return SetInputGain(self.read.gain(value, action))
        if action == "output_volume_db":
            return SetOutputVolume(self.read.gain(value, action))
        if action == "goto":
            return Goto(self.read.text(value, "goto"))
        if action == "hold":
            return self.line.hold(value)
        return self.hangup(value)

    def hangup(self, node: Node) -> HangupAction:
        """`hangup: outcome`: the outcome a word of letters, digits and _."""
        outcome = self.read.text(node, "hangup")
        if not OUTCOME.fullmatch(outcome):
            self.read.fail(
                node,
                "schema",
                f"hangup outcome {outcome!r} must be a word of letters, digits and _ "
                "(e.g. no_answer)",
            )
        return HangupAction(outcome)

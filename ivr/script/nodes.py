"""Typed values from composed YAML nodes, with one-line errors at the node's line.

Reading nodes rather than loaded data keeps the line of every mapping key and list item.
"""

from __future__ import annotations

import difflib
from typing import NoReturn

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.script.source import Source

TIME_LIMITS_S = {
    "noinput_timeout_s": 60.0,
    "end_of_speech_s": 10.0,
    "max_speech_s": 120.0,
    "pause": 60.0,
    "max_call_s": 3600.0,
    "still_listening_after_s": 10.0,
    "still_listening_min_speech_s": 120.0,
    "hold: seconds": 3600.0,
    "hold: every_s": 600.0,
    "hold: callback_after_s": 3600.0,
    "amd: beep_timeout_s": 120.0,
}
"""Upper limit (s) of each time; every time must also be above 0 s."""
GAIN_LIMIT_DB = 40.0
"""Gains and volumes (dB) must lie within -40..40 dB."""

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))

Entry = tuple[Node, Node]
"""A mapping entry: (key node, value node)."""


def line(node: Node) -> int:
    """The line (from 1) where `node` starts."""
    return node.start_mark.line + 1


def kind(node: Node) -> str:
    """What a node holds, for messages: a mapping, a list, a number, text 'x', nothing..."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kinds = {NULL: "nothing", BOOL: "true/false", INT: "a number", FLOAT: "a number"}
    if node.tag == STR:
        return f"text {node.value!r}"
    return kinds.get(node.tag, f"a value tagged {node.tag}")


def is_null(node: Node) -> bool:
    """Whether `node` is an empty value (`key:` with nothing, `~` or `null`)."""
    return isinstance(node, ScalarNode) and node.tag == NULL


class NodeReader:
    """Reads typed values from the nodes of one file; every fault raises the `ScriptError` of
    `src`, the file's `Source`, at the node's line.

    Each part of the script parser (ivr.script.parse and its parse_* modules) is given the
    file's one `Source`, notes the lines of what it reads there, and reads values through a
    NodeReader of it."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self._constructor = SafeConstructor()

    def fail(self, where: Node | int, rule: str, message: str) -> NoReturn:
        """Raise `rule`'s one-line error at a node's line (or at a line number)."""
        self.src.fail(where if isinstance(where, int) else line(where), rule, message)

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: tuple[str, ...] | None,
        required: tuple[str, ...] = (),
        key_kind: str = "key",
        allowed_text: str | None = None,
    ) -> dict[str, Entry]:
        """Name -> (key, value) of a mapping; fails on unknown keys (if `allowed` is given;
        the message suggests the closest allowed key and lists them all, or says
        `allowed_text` instead of the list), duplicate keys and missing `required` keys."""
        if not isinstance(node, MappingNode):
            self.fail(node, "schema", f"{what} must be a mapping, got {kind(node)}")
        out: dict[str, Entry] = {}
        for key, value in node.value:
            # Keys are read as written: YAML 1.1 would make `on:` (handlers) true.
            if not isinstance(key, ScalarNode) or key.tag not in (STR, INT, FLOAT, BOOL):
                self.fail(key, "schema", f"{what}: a key must be a plain name, got {kind(key)}")
            name = key.value
            if allowed is not None and name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                listed = allowed_text or f"allowed: {', '.join(allowed)}"
                self.fail(key, "schema", f"{what}: unknown {key_kind} {name!r}{hint}; {listed}")
            if name in out:
                first = line(out[name][0])
                self.fail(key, "schema", f"{what}: {name!r} given twice (first at line {first})")
            out[name] = (key, value)
        missing = [name for name in required if name not in out]
        if missing:
            self.fail(node, "schema", f"{what}: missing {', '.join(missing)}")
        return out

    def text(self, node: Node, what: str) -> str:
        """Non-empty text (a plain number counts as its text)."""
        if isinstance(node, ScalarNode) and node.tag in (STR, INT, FLOAT) and node.value:
            return node.value
        self.fail(node, "schema", f"{what} must be non-empty text, got {kind(node)}")

    def number(self, node: Node, what: str) -> float:
        """An int or float (not true/false)."""
        if isinstance(node, ScalarNode) and node.tag == INT:
            return float(self._constructor.construct_yaml_int(node))
        if isinstance(node, ScalarNode) and node.tag == FLOAT:
            return float(self._constructor.construct_yaml_float(node))
        self.fail(node, "schema", f"{what} must be a number, got {kind(node)}")

    def seconds(self, node: Node, what: str) -> float:
        """A time (s) above 0 and at most TIME_LIMITS_S[what]; else the `timeout` rule."""
        value = self.number(node, f"{what} (s)")
        limit = TIME_LIMITS_S[what]
        if not 0.0 < value <= limit:
            self.fail(
                node,
                "timeout",
                f"{what} = {value:g} s is out of range: it must be above 0 and at most {limit:g} s",
            )
        return value

    def gain(self, node: Node, what: str) -> float:
        """A gain (dB) within -GAIN_LIMIT_DB..GAIN_LIMIT_DB; else the `timeout` rule."""
        value = self.number(node, f"{what} (dB)")
        if not -GAIN_LIMIT_DB <= value <= GAIN_LIMIT_DB:
            self.fail(
                node,
                "timeout",
                f"{what} = {value:g} dB is out of range: it must be within "
                f"-{GAIN_LIMIT_DB:g}..{GAIN_LIMIT_DB:g} dB",
            )
        return value

    def flag(self, node: Node, what: str) -> bool:
        """true or false."""
        if isinstance(node, ScalarNode) and node.tag == BOOL:
            return bool(self._constructor.construct_yaml_bool(node))
        self.fail(node, "schema", f"{what} must be true or false, got {kind(node)}")

    def phrase(self, node: Node, what: str) -> str:
        """One phrase: its words separated by single spaces; not empty."""
        if is_null(node):
            words = []
        elif isinstance(node, ScalarNode) and node.tag in (STR, INT, FLOAT, BOOL):
            words = str(node.value).split()  # as written: YAML 1.1 would make `yes` true
        else:
            self.fail(
                node, "schema", f"{what} must be text (words separated by spaces), got {kind(node)}"
            )
        if not words:
            self.fail(
                node,
                "schema",
                f"{what} is empty; a phrase is one or more words separated by spaces",
            )
        return " ".join(words)

    def count(self, node: Node) -> int:
        """A handler count: a whole number of 1 or more."""
        if isinstance(node, ScalarNode) and node.tag == INT:
            value = int(self._constructor.construct_yaml_int(node))
            if value >= 1:
                return value
        got = repr(node.value) if isinstance(node, ScalarNode) else kind(node)
        self.fail(node, "schema", f"count must be a whole number of 1 or more, got {got}")


def kind_or_empty(node: Node) -> str:
    """`kind`, telling an empty list or mapping apart."""
    if isinstance(node, SequenceNode | MappingNode) and not node.value:
        return "an empty list" if isinstance(node, SequenceNode) else "an empty mapping"
    return kind(node)

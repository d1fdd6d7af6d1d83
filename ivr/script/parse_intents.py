"""Reading a listening state's intents: the phrases the callee may say, per intent, and what
recognized speech matching none of them is (`unmatched:`)."""

from __future__ import annotations

import re

from yaml.nodes import Node, ScalarNode, SequenceNode

from ivr.script.model import EVENTS
from ivr.script.nodes import STR, NodeReader, kind, kind_or_empty, line
from ivr.script.source import Source

INTENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""An intent name: an identifier such as cannot_hear."""
UNMATCHED = ("nomatch", "speech")
"""The events recognized speech that matches no intent may raise."""

Owners = dict[str, tuple[str, str, int]]
"""A phrase without its spaces -> (intent, phrase, line) of its first use: the same characters
split into words another way still say the same thing."""


class IntentReader:
    """The part of the script parser that reads `intents:` and `unmatched:`; notes the line of
    every phrase in `src`."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.read = NodeReader(src)

    def intents(self, state: str, node: Node) -> dict[str, tuple[str, ...]]:
        """A state's `intents:`: intent name -> its phrases (in file order, spaces collapsed)."""
        what = f"state {state!r}: intents"
        entries = self.read.mapping(node, what, None)
        if not entries:
            self.read.fail(
                node,
                "schema",
                f"{what} must hold at least one intent (name: [phrases]), "
                f"got {kind_or_empty(node)}",
            )
        out: dict[str, tuple[str, ...]] = {}
        owner: Owners = {}
        for intent, (key, value) in entries.items():
            self._check_name(what, intent, key)
            if not isinstance(value, SequenceNode) or not value.value:
                self.read.fail(
                    key,
                    "schema",
                    f"{what}: {intent} must be a non-empty list of phrases (words separated "
                    f"by spaces), got {kind_or_empty(value)}",
                )
            out[intent] = self._phrases(state, intent, value.value, owner)
        return out

    def _check_name(self, what: str, intent: str, key: Node) -> None:
        """An intent's name: an identifier, not one of the fixed events."""
        if not INTENT.fullmatch(intent):
            self.read.fail(
                key,
                "schema",
                f"{what}: intent name {intent!r} must be an identifier of letters, digits "
                "and _ (e.g. cannot_hear)",
            )
        if intent in EVENTS:
            self.read.fail(
                key,
                "schema",
                f"{what}: intent name {intent!r} clashes with the fixed event {intent!r} "
                f"(fixed events: {', '.join(EVENTS)}); give the intent another name",
            )

    def _phrases(
        self, state: str, intent: str, items: list[Node], owner: Owners
    ) -> tuple[str, ...]:
        """One intent's phrases; none twice, none (spaces aside) under another intent."""
        what = f"state {state!r}: intents"
        phrases: list[str] = []
        for index, item in enumerate(items):
            self.src.phrases[(state, intent, index)] = line(item)
            phrase = self.read.phrase(item, f"{what}: {intent}: phrase {index + 1}")
            if phrase in phrases:
                first = self.src.phrases[(state, intent, phrases.index(phrase))]
                self.read.fail(
                    item,
                    "schema",
                    f"{what}: {intent}: phrase {phrase!r} given twice (first at line {first})",
                )
            joined = "".join(phrase.split())
            if joined in owner and owner[joined][0] != intent:
                other, written, first = owner[joined]
                spelled = f"as {written!r}, " if written != phrase else ""
                self.read.fail(
                    item,
                    "schema",
                    f"{what}: phrase {phrase!r} is under both {other!r} ({spelled}line "
                    f"{first}) and {intent!r}; a phrase must express one intent",
                )
            owner.setdefault(joined, (intent, phrase, line(item)))
            phrases.append(phrase)
        return tuple(phrases)

    def unmatched(self, state: str, node: Node) -> str:
        """A state's `unmatched:`: nomatch or speech."""
        if not (isinstance(node, ScalarNode) and node.tag == STR and node.value in UNMATCHED):
            self.read.fail(
                node,
                "schema",
                f"state {state!r}: unmatched must be nomatch (ask again) or speech (take the "
                f"speech as an answer), got {kind(node)}",
            )
        return str(node.value)

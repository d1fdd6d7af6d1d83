"""Reading a listening state's intents: the phrases the callee may say, per intent, and what
recognized speech matching none of them is (`unmatched:`)."""

from __future__ import annotations

import re

from yaml.nodes import Node, ScalarNode, SequenceNode

from ivr.script.model import EVENTS
from ivr.script.nodes import BOOL, FLOAT, INT, STR, NodeReader, is_null, kind, kind_or_empty, line

INTENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""An intent name: an identifier such as cannot_hear."""
UNMATCHED = ("nomatch", "speech")
"""The events recognized speech that matches no intent may raise."""


class IntentReader(NodeReader):
    """The part of the script parser that reads `intents:` and `unmatched:`."""

    def intents(self, state: str, node: Node) -> dict[str, tuple[str, ...]]:
        """A state's `intents:`: intent name -> its phrases (in file order, spaces collapsed)."""
        what = f"state {state!r}: intents"
        entries = self.mapping(node, what, None)
        if not entries:
            self.fail(
                node,
                "schema",
                f"{what} must hold at least one intent (name: [phrases]), "
                f"got {kind_or_empty(node)}",
            )
        out: dict[str, tuple[str, ...]] = {}
        # A phrase without its spaces -> (intent, phrase, line) of its first use: the same
        # characters split into words another way still say the same thing.
        owner: dict[str, tuple[str, str, int]] = {}
        for intent, (key, value) in entries.items():
            if not INTENT.fullmatch(intent):
                self.fail(
                    key,
                    "schema",
                    f"{what}: intent name {intent!r} must be an identifier of letters, digits "
                    "and _ (e.g. cannot_hear)",
                )
            if intent in EVENTS:
                self.fail(
                    key,
                    "schema",
                    f"{what}: intent name {intent!r} clashes with the fixed event {intent!r} "
                    f"(fixed events: {', '.join(EVENTS)}); give the intent another name",
                )
            if not isinstance(value, SequenceNode) or not value.value:
                self.fail(
                    key,
                    "schema",
                    f"{what}: {intent} must be a non-empty list of phrases (words separated "
                    f"by spaces), got {kind_or_empty(value)}",
                )
            phrases: list[str] = []
            for index, item in enumerate(value.value):
                self.src.phrases[(state, intent, index)] = line(item)
                phrase = self.phrase(item, f"{what}: {intent}: phrase {index + 1}")
                if phrase in phrases:
                    first = self.src.phrases[(state, intent, phrases.index(phrase))]
                    self.fail(
                        item,
                        "schema",
                        f"{what}: {intent}: phrase {phrase!r} given twice (first at line {first})",
                    )
                joined = "".join(phrase.split())
                if joined in owner and owner[joined][0] != intent:
                    other, written, first = owner[joined]
                    spelled = f"as {written!r}, " if written != phrase else ""
                    self.fail(
                        item,
                        "schema",
                        f"{what}: phrase {phrase!r} is under both {other!r} ({spelled}line "
                        f"{first}) and {intent!r}; a phrase must express one intent",
                    )
                owner.setdefault(joined, (intent, phrase, line(item)))
                phrases.append(phrase)
            out[intent] = tuple(phrases)
        return out

    def phrase(self, node: Node, what: str) -> str:
        """One intent phrase: its words separated by single spaces; not empty."""
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

    def unmatched(self, state: str, node: Node) -> str:
        """A state's `unmatched:`: nomatch or speech."""
        if not (isinstance(node, ScalarNode) and node.tag == STR and node.value in UNMATCHED):
            self.fail(
                node,
                "schema",
                f"state {state!r}: unmatched must be nomatch (ask again) or speech (take the "
                f"speech as an answer), got {kind(node)}",
            )
        return str(node.value)

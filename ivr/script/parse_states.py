"""The part of the script parser that reads `states:`: each state's prompts, its `listen:`
settings, intents and `on:` handlers, or its `do:` actions.

A listening state may declare `intents:` (intent name -> phrases, words separated by spaces as
the speech model spells them) and `unmatched:` (`nomatch` or `speech`: the event for recognized
speech that matches no intent); its `on:` handlers are keyed by the fixed events and by those
intent names.
"""

from __future__ import annotations

from yaml.nodes import Node, SequenceNode

from ivr.script.model import EVENTS, Handler, Listen, State
from ivr.script.nodes import Entry, NodeReader, is_null, kind, line
from ivr.script.parse_actions import ActionReader
from ivr.script.parse_intents import IntentReader
from ivr.script.parse_line import LineReader
from ivr.script.source import Source

STATE_KEYS = ("say", "listen", "intents", "unmatched", "on", "do")
LISTEN_KEYS = (
    "noinput_timeout_s",
    "end_of_speech_s",
    "max_speech_s",
    "barge_in",
    "still_listening_after_s",
    "still_listening_min_speech_s",
)
LISTEN_TIMES = ("noinput_timeout_s", "end_of_speech_s", "max_speech_s")
STATE_KEY_NEEDS = (
    (
        "on",
        "listen",
        "has on: handlers but does not listen: add listen: or put the actions under do:",
    ),
    (
        "intents",
        "listen",
        "has intents: but does not listen: only a listening state hears the callee",
    ),
    (
        "unmatched",
        "listen",
        "has unmatched: but does not listen: only a listening state hears the callee",
    ),
    (
        "unmatched",
        "intents",
        "has unmatched: but no intents:, so unmatched has no effect (without intents all clear "
        "speech is speech); declare intents: or drop unmatched:",
    ),
)
"""(key, key it needs, what is wrong without it) for the keys of a state that work only beside
another, checked in this order."""
HANDLER_KEYS = ("count", "key", "do")

ListenFields = dict[str, float | bool]
"""Listen settings by name (LISTEN_KEYS), as given."""


class StateReader:
    """Reads `states:` and `defaults: listen`; notes the lines of states, their prompts,
    `listen:`, `do:` and `intents:` keys in `src`."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.read = NodeReader(src)
        self.intents = IntentReader(src)
        self.actions = ActionReader(src)
        self.line = LineReader(src)

    def listen_fields(self, node: Node, what: str) -> ListenFields:
        """The listen settings given in one mapping (an empty value gives none)."""
        if is_null(node):
            return {}
        out: ListenFields = {}
        for name, (_key, value) in self.read.mapping(node, what, LISTEN_KEYS).items():
            out[name] = (
                self.read.flag(value, name)
                if name == "barge_in"
                else self.read.seconds(value, name)
            )
        return out

    def states(self, node: Node, listen_defaults: ListenFields) -> dict[str, State]:
        entries = self.read.mapping(node, "states", None)
        if not entries:
            self.read.fail(node, "schema", "states must hold at least one state")
        out = {}
        for name, (key, value) in entries.items():
            self.src.states[name] = line(key)
            out[name] = self.state(name, key, value, listen_defaults)
        return out

    def state(self, name: str, key: Node, node: Node, listen_defaults: ListenFields) -> State:
        what = f"state {name!r}"
        entries = self.read.mapping(node, what, STATE_KEYS)
        say = self.say(name, entries["say"][1]) if "say" in entries else ()
        self._check_keys(what, key, entries)
        if "do" in entries:
            do_key, do_node = entries["do"]
            self.src.do[name] = line(do_key)
            actions = self.actions.actions(do_node, f"{what}: do", (name, None, 0))
            return State(name=name, say=say, actions=actions, line=line(key))
        listen = self._listen(what, name, entries["listen"], listen_defaults)
        intents: dict[str, tuple[str, ...]] = {}
        if "intents" in entries:
            intents_key, intents_node = entries["intents"]
            self.src.intents[name] = line(intents_key)
            intents = self.intents.intents(name, intents_node)
        unmatched = "nomatch"
        if "unmatched" in entries:
            unmatched = self.intents.unmatched(name, entries["unmatched"][1])
        handlers = self.handlers(name, entries["on"][1], intents) if "on" in entries else {}
        return State(
            name=name,
            say=say,
            listen=listen,
            handlers=handlers,
            intents=intents,
            unmatched=unmatched,
            line=line(key),
        )

    def _check_keys(self, what: str, key: Node, entries: dict[str, Entry]) -> None:
        """A state listens or acts, not both, and has no key that needs one it lacks."""
        if "listen" in entries and "do" in entries:
            self.read.fail(
                entries["do"][0],
                "schema",
                f"{what} has both listen: and do:; a state either listens (answering events "
                "with on:) or runs do: after its prompts",
            )
        if "listen" not in entries and "do" not in entries:
            self.read.fail(
                key,
                "schema",
                f"{what} neither listens nor acts: give it listen: (with on: handlers) or do: "
                "(ending in goto or hangup)",
            )
        for given, needed, problem in STATE_KEY_NEEDS:
            if given in entries and needed not in entries:
                self.read.fail(entries[given][0], "schema", f"{what} {problem}")

    def _listen(self, what: str, name: str, entry: Entry, listen_defaults: ListenFields) -> Listen:
        """A state's `listen:` over the script's `defaults: listen`."""
        listen_key, listen_node = entry
        self.src.listen[name] = line(listen_key)
        fields = {**listen_defaults, **self.listen_fields(listen_node, f"{what}: listen")}
        missing = [time for time in LISTEN_TIMES if time not in fields]
        if missing:
            self.read.fail(
                listen_key,
                "schema",
                f"{what}: listen needs {', '.join(missing)} (s): give "
                f"{'it' if len(missing) == 1 else 'them'} here or under defaults: listen:",
            )
        listen = Listen(
            noinput_timeout_s=float(fields["noinput_timeout_s"]),
            end_of_speech_s=float(fields["end_of_speech_s"]),
            max_speech_s=float(fields["max_speech_s"]),
            barge_in=bool(fields.get("barge_in", False)),
            still_listening_after_s=fields.get("still_listening_after_s"),
            still_listening_min_speech_s=float(fields.get("still_listening_min_speech_s", 2.0)),
        )
        cue = listen.still_listening_after_s
        if cue is not None and cue >= listen.end_of_speech_s:
            self.read.fail(
                listen_key,
                "timeout",
                f"{what}: still_listening_after_s ({cue:g} s) must be shorter than "
                f"end_of_speech_s ({listen.end_of_speech_s:g} s), which ends the utterance",
            )
        return listen

    def say(self, state: str, node: Node) -> tuple[str, ...]:
        """A state's `say:`: one prompt id or a list of them."""
        items = node.value if isinstance(node, SequenceNode) else [node]
        out = []
        for index, item in enumerate(items):
            self.src.say[(state, index)] = line(item)
            text = self.read.text(item, f"state {state!r}: say (a prompt id or a list of them)")
            out.append(text)
        return tuple(out)

    def handlers(
        self, state: str, node: Node, intents: dict[str, tuple[str, ...]]
    ) -> dict[str, tuple[Handler, ...]]:
        """A state's `on:`: event (fixed or one of the state's `intents`) -> its handlers
        sorted by count."""
        what = f"state {state!r}: on"
        allowed = (*EVENTS, *intents)
        entries = self.read.mapping(
            node, what, allowed, key_kind="event", allowed_text=_allowed_events(state, intents)
        )
        out = {}
        for event, (_key, value) in entries.items():
            if not isinstance(value, SequenceNode) or not value.value:
                self.read.fail(
                    value,
                    "schema",
                    f"{what}: {event} must be a non-empty list of handlers like "
                    f"{{count: 1, do: [...]}}, got {kind(value)}",
                )
            out[event] = self._event_handlers(state, event, value.value)
        return out

    def _event_handlers(self, state: str, event: str, items: list[Node]) -> tuple[Handler, ...]:
        """The handlers of one event, sorted by count (and key); no two for the same."""
        what = f"state {state!r}: on"
        by_count: dict[tuple[int, str], Handler] = {}
        for item in items:
            entries = self.read.mapping(item, f"{what}: {event} handler", HANDLER_KEYS, ("do",))
            count = self.read.count(entries["count"][1]) if "count" in entries else 1
            key = self.line.handler_key(entries["key"][1], event) if "key" in entries else None
            if (count, key or "") in by_count:
                self.read.fail(
                    item,
                    "schema",
                    f"{what}: two {event} handlers for count {count}"
                    f"{f' and key {key}' if key else ''} (the other at line "
                    f"{by_count[count, key or ''].line})",
                )
            where = (state, event, count) if key is None else (state, f"{event}:{key}", count)
            actions = self.actions.actions(entries["do"][1], f"{what}: {event}", where)
            by_count[count, key or ""] = Handler(event, count, actions, line(item), key)
        return tuple(by_count[k] for k in sorted(by_count))


def _allowed_events(state: str, intents: dict[str, tuple[str, ...]]) -> str:
    """The handler keys a state allows, for the unknown-event message: both kinds."""
    declared = (
        f"the intents {', '.join(intents)} (declared by state {state!r})"
        if intents
        else f"no intents (state {state!r} declares none under intents:)"
    )
    return f"allowed: {', '.join(EVENTS)} (fixed events) and {declared}"

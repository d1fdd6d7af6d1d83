"""A composed YAML document to the script model, noting the line of every part.

A listening state may declare `intents:` (intent name -> phrases, words separated by spaces as
the speech model spells them) and `unmatched:` (`nomatch` or `speech`: the event for recognized
speech that matches no intent); its `on:` handlers are keyed by the fixed events and by those
intent names.

Checks the `schema`, `timeout` and (malformed braces only) `placeholder` rules as it goes; the
rules between parts (prompts and states named, exits, reachability, loops) are in `validate`.
Prompt texts keep their `{placeholders}`: the loader fills them last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, SequenceNode

from ivr.script.model import (
    DIRECTIONS,
    EVENTS,
    Action,
    Goto,
    Handler,
    Hangup,
    Listen,
    Pause,
    Say,
    Script,
    SetInputGain,
    SetOutputVolume,
    State,
)
from ivr.script.nodes import is_null, kind, line
from ivr.script.parse_line import LineReader
from ivr.script.placeholders import placeholder_names
from ivr.script.source import Source

TOP_KEYS = (
    "script",
    "description",
    "start",
    "max_call_s",
    "direction",
    "qa",
    "placeholders",
    "prompts",
    "defaults",
    "states",
    "amd",
    "carrier_phrases",
)
REQUIRED_TOP_KEYS = ("script", "start", "prompts", "states")
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
ACTION_KEYS = ("say", "pause", "input_gain_db", "output_volume_db", "goto", "hangup", "hold")
DEFAULT_MAX_CALL_S = 300.0
"""A call's length limit (s) when the script gives no max_call_s."""

OUTCOME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""A hang-up outcome label: a word such as no_answer."""
_NEEDED = "script, start, prompts and states"


@dataclass(frozen=True)
class Parsed:
    """A parsed script: the model (prompt texts not yet filled), its lines, its defaults."""

    script: Script
    source: Source
    defaults: dict[str, str | None]
    """Placeholder -> default value from `placeholders:` (None: declared without a default)."""


def parse_document(root: Node | None, path: str) -> Parsed:
    """The model of the composed document `root` of file `path`; ScriptError at the first fault."""
    return _Parser(path).document(root)


class _Parser(LineReader):
    def document(self, root: Node | None) -> Parsed:
        if root is None:
            self.fail(1, "yaml", f"the file is empty; a script is a mapping with {_NEEDED}")
        if not isinstance(root, MappingNode):
            self.fail(
                root, "yaml", f"the top level must be a mapping with {_NEEDED}, got {kind(root)}"
            )
        top = self.mapping(root, "the script", TOP_KEYS, REQUIRED_TOP_KEYS)
        name = self.text(top["script"][1], "script")
        description = (
            self.text(top["description"][1], "description") if "description" in top else ""
        )
        start_key, start_node = top["start"]
        self.src.start = line(start_key)
        start = self.text(start_node, "start")
        max_call_s = DEFAULT_MAX_CALL_S
        if "max_call_s" in top:
            max_call_s = self.seconds(top["max_call_s"][1], "max_call_s")
        direction = self.text(top["direction"][1], "direction") if "direction" in top else None
        if direction not in (None, *DIRECTIONS):
            self.fail(top["direction"][1], "schema", f"direction must be {' or '.join(DIRECTIONS)}")
        qa, qa_noinput = self.qa_limits(top["qa"][1]) if "qa" in top else ({}, None)
        defaults = self.placeholders(top["placeholders"][1]) if "placeholders" in top else {}
        prompts = self.prompts(top["prompts"][1])
        listen_defaults = self.defaults(top["defaults"][1]) if "defaults" in top else {}
        states = self.states(top["states"][1], listen_defaults)
        amd = self.amd(top["amd"][1]) if "amd" in top else None
        carrier = (
            self.carrier_phrases(top["carrier_phrases"][1]) if "carrier_phrases" in top else ()
        )
        script = Script(
            name=name,
            path=self.src.path,
            start=start,
            prompts=prompts,
            states=states,
            max_call_s=max_call_s,
            description=description,
            direction=direction or DIRECTIONS[0],
            qa=qa,
            qa_noinput_s=qa_noinput,
            amd=amd,
            carrier_phrases=carrier,
        )
        return Parsed(script=script, source=self.src, defaults=defaults)

    def placeholders(self, node: Node) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for name, (key, value) in self.mapping(node, "placeholders", None).items():
            if not name.isidentifier():
                self.fail(key, "schema", f"placeholder name {name!r} must be letters, digits and _")
            out[name] = None if is_null(value) else self.text(value, f"placeholder {name!r}")
        return out

    def prompts(self, node: Node) -> dict[str, str]:
        entries = self.mapping(node, "prompts", None)
        if not entries:
            self.fail(node, "schema", "prompts must hold at least one prompt (id: text)")
        out = {}
        for prompt_id, (key, value) in entries.items():
            self.src.prompts[prompt_id] = line(key)
            text = self.text(value, f"prompt {prompt_id!r}")
            try:
                placeholder_names(text)
            except ValueError as exc:
                self.fail(key, "placeholder", f"prompt {prompt_id!r}: {exc}")
            out[prompt_id] = text
        return out

    def defaults(self, node: Node) -> dict[str, float | bool]:
        entries = self.mapping(node, "defaults", ("listen",))
        return self.listen_fields(entries["listen"][1], "defaults: listen") if entries else {}

    def listen_fields(self, node: Node, what: str) -> dict[str, float | bool]:
        """The listen settings given in one mapping (an empty value gives none)."""
        if is_null(node):
            return {}
        out: dict[str, float | bool] = {}
        for name, (_key, value) in self.mapping(node, what, LISTEN_KEYS).items():
            out[name] = self.flag(value, name) if name == "barge_in" else self.seconds(value, name)
        return out

    def states(self, node: Node, listen_defaults: dict[str, float | bool]) -> dict[str, State]:
        entries = self.mapping(node, "states", None)
        if not entries:
            self.fail(node, "schema", "states must hold at least one state")
        out = {}
        for name, (key, value) in entries.items():
            self.src.states[name] = line(key)
            out[name] = self.state(name, key, value, listen_defaults)
        return out

    def state(
        self, name: str, key: Node, node: Node, listen_defaults: dict[str, float | bool]
    ) -> State:
        what = f"state {name!r}"
        entries = self.mapping(node, what, STATE_KEYS)
        say = self.say(name, entries["say"][1]) if "say" in entries else ()
        if "listen" in entries and "do" in entries:
            self.fail(
                entries["do"][0],
                "schema",
                f"{what} has both listen: and do:; a state either listens (answering events "
                "with on:) or runs do: after its prompts",
            )
        if "listen" not in entries and "do" not in entries:
            self.fail(
                key,
                "schema",
                f"{what} neither listens nor acts: give it listen: (with on: handlers) or do: "
                "(ending in goto or hangup)",
            )
        for given, needed, problem in STATE_KEY_NEEDS:
            if given in entries and needed not in entries:
                self.fail(entries[given][0], "schema", f"{what} {problem}")
        if "do" in entries:
            do_key, do_node = entries["do"]
            self.src.do[name] = line(do_key)
            actions = self.actions(do_node, f"{what}: do", (name, None, 0))
            return State(name=name, say=say, actions=actions, line=line(key))
        listen_key, listen_node = entries["listen"]
        self.src.listen[name] = line(listen_key)
        fields = {**listen_defaults, **self.listen_fields(listen_node, f"{what}: listen")}
        missing = [time for time in LISTEN_TIMES if time not in fields]
        if missing:
            self.fail(
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
            self.fail(
                listen_key,
                "timeout",
                f"{what}: still_listening_after_s ({cue:g} s) must be shorter than "
                f"end_of_speech_s ({listen.end_of_speech_s:g} s), which ends the utterance",
            )
        intents: dict[str, tuple[str, ...]] = {}
        if "intents" in entries:
            intents_key, intents_node = entries["intents"]
            self.src.intents[name] = line(intents_key)
            intents = self.intents(name, intents_node)
        unmatched = "nomatch"
        if "unmatched" in entries:
            unmatched = self.unmatched(name, entries["unmatched"][1])
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

    def say(self, state: str, node: Node) -> tuple[str, ...]:
        """A state's `say:`: one prompt id or a list of them."""
        items = node.value if isinstance(node, SequenceNode) else [node]
        out = []
        for index, item in enumerate(items):
            self.src.say[(state, index)] = line(item)
            out.append(self.text(item, f"state {state!r}: say (a prompt id or a list of them)"))
        return tuple(out)

    def handlers(
        self, state: str, node: Node, intents: dict[str, tuple[str, ...]]
    ) -> dict[str, tuple[Handler, ...]]:
        """A state's `on:`: event (fixed or one of the state's `intents`) -> its handlers
        sorted by count."""
        what = f"state {state!r}: on"
        allowed = (*EVENTS, *intents)
        entries = self.mapping(
            node, what, allowed, key_kind="event", allowed_text=_allowed_events(state, intents)
        )
        out = {}
        for event, (_key, value) in entries.items():
            if not isinstance(value, SequenceNode) or not value.value:
                self.fail(
                    value,
                    "schema",
                    f"{what}: {event} must be a non-empty list of handlers like "
                    f"{{count: 1, do: [...]}}, got {kind(value)}",
                )
            by_count: dict[tuple[int, str], Handler] = {}
            for item in value.value:
                entries = self.mapping(item, f"{what}: {event} handler", HANDLER_KEYS, ("do",))
                count = self.count(entries["count"][1]) if "count" in entries else 1
                key = self.handler_key(entries["key"][1], event) if "key" in entries else None
                if (count, key or "") in by_count:
                    self.fail(
                        item,
                        "schema",
                        f"{what}: two {event} handlers for count {count}"
                        f"{f' and key {key}' if key else ''} (the other at line "
                        f"{by_count[count, key or ''].line})",
                    )
                where = (state, event, count) if key is None else (state, f"{event}:{key}", count)
                actions = self.actions(entries["do"][1], f"{what}: {event}", where)
                by_count[count, key or ""] = Handler(event, count, actions, line(item), key)
            out[event] = tuple(by_count[k] for k in sorted(by_count))
        return out

    def actions(
        self, node: Node, what: str, key: tuple[str, str | None, int]
    ) -> tuple[Action, ...]:
        """A list of actions; `key` (state, event, count) files their lines in the source."""
        if not isinstance(node, SequenceNode):
            self.fail(node, "schema", f"{what} must be a list of actions, got {kind(node)}")
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
            self.fail(
                node,
                "schema",
                f"{what}: an action is a mapping with exactly one key of "
                f"{', '.join(ACTION_KEYS)}; got {got}",
            )
        entries = self.mapping(node, what, ACTION_KEYS, key_kind="action")
        ((action, (_key, value)),) = entries.items()
        if action == "say":
            return Say(self.text(value, "say"))
        if action == "pause":
            return Pause(self.seconds(value, "pause"))
        if action == "input_gain_db":
            return SetInputGain(self.gain(value, action))
        if action == "output_volume_db":
            return SetOutputVolume(self.gain(value, action))
        if action == "goto":
            return Goto(self.text(value, "goto"))
        if action == "hold":
            return self.hold(value)
        outcome = self.text(value, "hangup")
        if not OUTCOME.fullmatch(outcome):
            self.fail(
                value,
                "schema",
                f"hangup outcome {outcome!r} must be a word of letters, digits and _ "
                "(e.g. no_answer)",
            )
        return Hangup(outcome)


def _allowed_events(state: str, intents: dict[str, tuple[str, ...]]) -> str:
    """The handler keys a state allows, for the unknown-event message: both kinds."""
    declared = (
        f"the intents {', '.join(intents)} (declared by state {state!r})"
        if intents
        else f"no intents (state {state!r} declares none under intents:)"
    )
    return f"allowed: {', '.join(EVENTS)} (fixed events) and {declared}"

"""A composed YAML document to the script model, noting the line of every part.

The parts of the document are read by small readers that share one `Source` (the file and the
line of every named part, for `file:line` messages): `StateReader` (ivr.script.parse_states)
reads `states:`, with `IntentReader`, `ActionReader` and `LineReader`; `QaReader` reads `qa:`;
`LineReader` also reads `amd:` and `carrier_phrases:`. All read values through a `NodeReader`
(ivr.script.nodes).

Checks the `schema`, `timeout` and (malformed braces only) `placeholder` rules as it goes; the
rules between parts (prompts and states named, exits, reachability, loops) are in `validate`.
Prompt texts keep their `{placeholders}`: the loader fills them last.
"""

from __future__ import annotations

from dataclasses import dataclass

from yaml.nodes import MappingNode, Node

from ivr.script.model import DIRECTIONS, Script
from ivr.script.nodes import NodeReader, is_null, kind, line
from ivr.script.parse_line import LineReader
from ivr.script.parse_qa import QaReader
from ivr.script.parse_states import ListenFields, StateReader
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
DEFAULT_MAX_CALL_S = 300.0
"""A call's length limit (s) when the script gives no max_call_s."""

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
    return _DocumentReader(Source(path)).document(root)


class _DocumentReader:
    """Reads the top level of a script; its parts go to the readers of the same `src`."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.read = NodeReader(src)
        self.qa = QaReader(src)
        self.line = LineReader(src)
        self.state_reader = StateReader(src)

    def document(self, root: Node | None) -> Parsed:
        if root is None:
            self.read.fail(1, "yaml", f"the file is empty; a script is a mapping with {_NEEDED}")
        if not isinstance(root, MappingNode):
            self.read.fail(
                root, "yaml", f"the top level must be a mapping with {_NEEDED}, got {kind(root)}"
            )
        top = self.read.mapping(root, "the script", TOP_KEYS, REQUIRED_TOP_KEYS)
        name = self.read.text(top["script"][1], "script")
        description = (
            self.read.text(top["description"][1], "description") if "description" in top else ""
        )
        start_key, start_node = top["start"]
        self.src.start = line(start_key)
        start = self.read.text(start_node, "start")
        max_call_s = DEFAULT_MAX_CALL_S
        if "max_call_s" in top:
            max_call_s = self.read.seconds(top["max_call_s"][1], "max_call_s")
        direction = self.read.text(top["direction"][1], "direction") if "direction" in top else None
        if direction not in (None, *DIRECTIONS):
            self.read.fail(
                top["direction"][1], "schema", f"direction must be {' or '.join(DIRECTIONS)}"
            )
        qa, qa_noinput = self.qa.qa_limits(top["qa"][1]) if "qa" in top else ({}, None)
        defaults = self.placeholders(top["placeholders"][1]) if "placeholders" in top else {}
        prompts = self.prompts(top["prompts"][1])
        listen_defaults = self.defaults(top["defaults"][1]) if "defaults" in top else {}
        states = self.state_reader.states(top["states"][1], listen_defaults)
        amd = self.line.amd(top["amd"][1]) if "amd" in top else None
        carrier = (
            self.line.carrier_phrases(top["carrier_phrases"][1]) if "carrier_phrases" in top else ()
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
        for name, (key, value) in self.read.mapping(node, "placeholders", None).items():
            if not name.isidentifier():
                self.read.fail(
                    key, "schema", f"placeholder name {name!r} must be letters, digits and _"
                )
            out[name] = None if is_null(value) else self.read.text(value, f"placeholder {name!r}")
        return out

    def prompts(self, node: Node) -> dict[str, str]:
        entries = self.read.mapping(node, "prompts", None)
        if not entries:
            self.read.fail(node, "schema", "prompts must hold at least one prompt (id: text)")
        out = {}
        for prompt_id, (key, value) in entries.items():
            self.src.prompts[prompt_id] = line(key)
            text = self.read.text(value, f"prompt {prompt_id!r}")
            try:
                placeholder_names(text)
            except ValueError as exc:
                self.read.fail(key, "placeholder", f"prompt {prompt_id!r}: {exc}")
            out[prompt_id] = text
        return out

    def defaults(self, node: Node) -> ListenFields:
        entries = self.read.mapping(node, "defaults", ("listen",))
        return (
            self.state_reader.listen_fields(entries["listen"][1], "defaults: listen")
            if entries
            else {}
        )

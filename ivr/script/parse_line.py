"""The part of the script parser that reads what concerns the telephone line: `amd:` and
`carrier_phrases:` at the top, the `hold:` action, and `key:` on dtmf handlers."""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, SequenceNode

from ivr.call_settings import AmdSettings
from ivr.script.model import DTMF_KEYS, Hold, MachineDetection
from ivr.script.nodes import NodeReader, is_null, kind, line
from ivr.script.source import Source

AMD_SETTINGS = tuple(f.name for f in AmdSettings.__dataclass_fields__.values())
"""The detector settings an `amd:` block may give (ms, a count, dBFS)."""
AMD_KEYS = (*AMD_SETTINGS, "leave_message", "beep_timeout_s")
HOLD_KEYS = ("seconds", "every_s", "callback_after_s", "callback")


class LineReader:
    """Reads `amd:`, `carrier_phrases:`, `hold:` and dtmf handler keys; notes the line of
    `amd: leave_message` in `src`."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.read = NodeReader(src)

    def amd(self, node: Node) -> MachineDetection:
        """`amd:`: Asterisk AMD parameters (their defaults if not given), and what to do with a
        machine (`leave_message: state`, `beep_timeout_s`). An empty value turns AMD on with
        the defaults."""
        if is_null(node) or (isinstance(node, MappingNode) and not node.value):
            return MachineDetection()
        entries = self.read.mapping(node, "amd", AMD_KEYS)
        settings, leave, beep_timeout = {}, None, MachineDetection.beep_timeout_s
        for name, (_key, value) in entries.items():
            if name == "leave_message":
                leave = self.read.text(value, "amd: leave_message (a state)")
                self.src.amd_leave_message = line(value)
            elif name == "beep_timeout_s":
                beep_timeout = self.read.seconds(value, "amd: beep_timeout_s")
            else:
                settings[name] = self.read.number(value, f"amd: {name}")
        try:
            AmdSettings(**settings)
        except (TypeError, ValueError) as exc:
            self.read.fail(node, "schema", f"amd: {exc}")
        return MachineDetection(settings, leave, beep_timeout)

    def carrier_phrases(self, node: Node) -> tuple[str, ...]:
        """`carrier_phrases:`: a list of phrases (words separated by spaces)."""
        if not isinstance(node, SequenceNode) or not node.value:
            self.read.fail(
                node, "schema", f"carrier_phrases must be a list of phrases, got {kind(node)}"
            )
        return tuple(self.read.phrase(item, "carrier_phrases: a phrase") for item in node.value)

    def hold(self, node: Node) -> Hold:
        """`hold: {seconds, every_s, callback_after_s, callback}` (s; callback: a state)."""
        entries = self.read.mapping(node, "hold", HOLD_KEYS, ("seconds",))
        values: dict = {}
        for name, (_key, value) in entries.items():
            if name == "callback":
                values[name] = self.read.text(value, "hold: callback (a state)")
            else:
                values[name] = self.read.seconds(value, f"hold: {name}")
        return Hold(**values)

    def handler_key(self, node: Node, event: str) -> str:
        """A handler's `key:` — only for dtmf — one telephone key."""
        if event != "dtmf":
            self.read.fail(node, "schema", f"key: is for dtmf handlers only, not {event}")
        text = str(node.value) if hasattr(node, "value") and isinstance(node.value, str) else ""
        if len(text) != 1 or text not in DTMF_KEYS:
            self.read.fail(node, "schema", f"dtmf key must be one of {DTMF_KEYS}, got {kind(node)}")
        return text

"""The part of the script parser that reads `qa:`: the standard's limits for scoring calls."""

from __future__ import annotations

from yaml.nodes import Node, SequenceNode

from ivr.script.model import QA_LIMITS, QA_NOINPUT_MAX_S, SecondsRange
from ivr.script.nodes import NodeReader, kind, line
from ivr.script.source import Source


class QaReader:
    """Reads `qa:` (whole-number limits and the `noinput_s` range) of the file of `src`."""

    def __init__(self, src: Source) -> None:
        self.read = NodeReader(src)

    def qa_limits(self, node: Node) -> tuple[dict[str, int], SecondsRange | None]:
        """`qa:`: the whole-number limits (QA_LIMITS), and the `noinput_s` range if given."""
        out, noinput = {}, None
        entries = self.read.mapping(node, "qa", (*QA_LIMITS, "noinput_s"))
        for name, (_key, value) in entries.items():
            if name == "noinput_s":
                noinput = self.seconds_range(value, f"qa: {name}")
                continue
            low, high = QA_LIMITS[name]
            number = self.read.number(value, f"qa: {name}")
            if number != int(number) or not low <= number <= high:
                self.read.fail(
                    value, "schema", f"qa: {name} must be a whole number in {low}..{high}"
                )
            out[name] = int(number)
        return out, noinput

    def seconds_range(self, node: Node, what: str) -> SecondsRange:
        """`[low, high]` (s): two numbers, 0 < low <= high <= QA_NOINPUT_MAX_S."""
        rule = f"{what} must be [low, high] in s with 0 < low <= high <= {QA_NOINPUT_MAX_S:g}"
        if not isinstance(node, SequenceNode) or len(node.value) != 2:
            got = f"a list of {len(node.value)}" if isinstance(node, SequenceNode) else kind(node)
            self.read.fail(node, "schema", f"{rule}, got {got}")
        low, high = (self.read.number(item, what) for item in node.value)
        if not 0 < low <= high <= QA_NOINPUT_MAX_S:
            self.read.fail(node, "schema", f"{rule}, got [{low:g}, {high:g}]")
        return SecondsRange(low, high, line(node))

"""Forbidden phrases (服务禁语) and how prompt texts are compared with them.

The list is data (`prompts/forbidden.yaml`, each phrase with the standard it comes from).
Texts are compared after `normalize`: full-/half-width folded, case-folded, every space and
punctuation mark removed; a phrase matches anywhere inside a prompt. In a prompt as written,
each placeholder is a gap no phrase matches across: a placeholder's value (a number, a name)
is not a phrase the script chose.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.errors import IvrError
from ivr.script.loader import PROMPTS_DIR
from ivr.yamlfile import read_yaml

FORBIDDEN_PATH = PROMPTS_DIR / "forbidden.yaml"
"""The bundled list of forbidden phrases (not a call script: folders are linted without it)."""

GREETINGS = ("您好",)
"""What the first prompt of a call starts with (after `normalize`)."""
CLOSING_WORD = "再见"
"""What a closing says before the hang-up."""

_GAP = "\x00"
"""Stands for a placeholder in a normalized prompt: no phrase matches across it."""
_NOT_KEPT = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class ForbiddenPhrase:
    """A phrase no prompt may contain, with the service standard it comes from."""

    text: str
    source: str


def normalize(text: str) -> str:
    """`text` for comparison: full-/half-width folded (NFKC), case-folded, and every space,
    punctuation mark and symbol removed."""
    return _NOT_KEPT.sub("", unicodedata.normalize("NFKC", text).casefold())


def load_forbidden(path: str | Path | None = None) -> list[ForbiddenPhrase]:
    """The forbidden phrases of `path` (default: the bundled `prompts/forbidden.yaml`), in file
    order: a mapping with `phrases:`, a list of `{text, source}`. IvrError `file:line: message`
    on a malformed file or two phrases that are the same after `normalize`."""
    path = Path(path) if path is not None else FORBIDDEN_PATH
    root = read_yaml(path, "forbidden-phrase list", compose=True)

    def fail(node: Node | None, message: str) -> IvrError:
        where = f":{node.start_mark.line + 1}" if node is not None else ""
        return IvrError(f"{path}{where}: {message}")

    phrases = _mapping(root, fail).get("phrases") if isinstance(root, MappingNode) else None
    if not isinstance(phrases, SequenceNode) or not phrases.value:
        raise fail(root, "expected a mapping with phrases: a non-empty list of {text, source}")
    out: list[ForbiddenPhrase] = []
    first_line: dict[str, int] = {}
    for item in phrases.value:
        fields = _mapping(item, fail)
        if set(fields) != {"text", "source"}:
            raise fail(item, "each phrase is a mapping with exactly text and source")
        text, source = (_scalar(fields[key], key, fail) for key in ("text", "source"))
        key = normalize(text)
        if not key:
            raise fail(fields["text"], f"phrase {text!r} is empty once punctuation is removed")
        if key in first_line:
            raise fail(
                fields["text"], f"phrase {text!r} is listed twice (first at line {first_line[key]})"
            )
        first_line[key] = item.start_mark.line + 1
        out.append(ForbiddenPhrase(text=text, source=source))
    return out


def _mapping(node: Node | None, fail) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise fail(node, "expected a mapping")
    return {str(key.value): value for key, value in node.value}


def _scalar(node: Node, what: str, fail) -> str:
    if not isinstance(node, ScalarNode) or not str(node.value).strip():
        raise fail(node, f"{what} must be non-empty text")
    return str(node.value)


def plain_template(template: str) -> str:
    """A prompt text as written, normalized, each placeholder a gap no phrase matches across."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(normalize(literal))
        if name is not None:
            out.append(_GAP)
    return "".join(out)


def find_forbidden(template: str, phrases: Sequence[ForbiddenPhrase]) -> list[ForbiddenPhrase]:
    """The phrases a prompt text (as written) contains, in list order; a phrase found only as
    part of a longer one found too is left out (呀 inside 说话呀 is reported as 说话呀 alone;
    in 说话呀!快点呀 both are)."""
    plain = plain_template(template)
    found = [(key, phrase) for phrase in phrases if (key := normalize(phrase.text)) in plain]
    out = []
    for key, phrase in found:
        rest = plain
        for other, _ in found:
            if key != other and key in other:
                rest = rest.replace(other, _GAP)  # the longer phrase is reported instead
        if key in rest:
            out.append(phrase)
    return out

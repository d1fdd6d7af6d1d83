"""How large a call script may be, checked before the work that grows with it.

A script beyond these is refused with one `limit` ScriptError: the file's size before a byte of
it is parsed (`read_script_bytes`), then the number of prompts and the length of each before
any is parsed, validated, linted or rendered (`check_prompts`). Without them 250,000 prompts
took 70 s and 850 MB to lint and one espeak-ng process each to replay, and one 1.8 MB prompt
61 s and 2.6 GB. The shipped scripts hold 12-20 prompts of at most 69 characters in under
7 KiB; the limits leave a real call-center script far more room than it ever takes.
"""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from ivr.script.source import script_error
from ivr.yamlfile import FileTooLargeError, read_bytes

MAX_SCRIPT_BYTES = 256 * 1024
"""Largest script file (bytes, 256 KiB): 37 times the largest shipped script, room for a
thousand states; `ivr lint` checks a script this large in about 2 s."""
MAX_PROMPTS = 1000
"""Most prompts (ids under `prompts:`) a script may hold: replay and `ivr prompts render`
synthesize each prompt in its own espeak-ng process; a real script holds tens (the shipped ones
12-20)."""
MAX_PROMPT_CHARS = 1000
"""Longest prompt text (characters, as written, placeholders unfilled): about 4 minutes of
Mandarin at 4-5 characters a second; the longest shipped prompt has 69."""


def read_script_bytes(path: Path) -> bytes:
    """The bytes of script file `path`; ScriptError `path: limit: ...` above
    `MAX_SCRIPT_BYTES`, refused by its size before it is read. OSError as `open` raises it."""
    try:
        return read_bytes(path, MAX_SCRIPT_BYTES)
    except FileTooLargeError as exc:
        raise script_error(str(path), None, "limit", exc.said_of("script")) from None


def check_prompts(root: Node | None, path: str) -> None:
    """ScriptError `path:line: limit: ...` if the `prompts:` of the composed script `root` hold
    more than `MAX_PROMPTS` prompts (at the `prompts:` key) or a text longer than
    `MAX_PROMPT_CHARS` (at its id). Anything malformed is left to the parser."""
    if not isinstance(root, MappingNode):
        return
    found = next(((k, v) for k, v in root.value if k.value == "prompts"), None)
    if found is None or not isinstance(found[1], MappingNode):
        return
    key, prompts = found
    if len(prompts.value) > MAX_PROMPTS:
        raise script_error(
            path,
            key.start_mark.line + 1,
            "limit",
            f"{len(prompts.value):,} prompts; a script may hold at most {MAX_PROMPTS:,}",
        )
    for prompt_key, text in prompts.value:
        if isinstance(text, ScalarNode) and len(text.value) > MAX_PROMPT_CHARS:
            raise script_error(
                path,
                prompt_key.start_mark.line + 1,
                "limit",
                f"prompt {prompt_key.value!r} is {len(text.value):,} characters long; a prompt "
                f"may be at most {MAX_PROMPT_CHARS:,}",
            )

"""Reading the YAML files a user gives ivr (scripts, configs, phrase lists, manifests), bounded,
with one-line errors that name the file.

Every such file is parsed by `BoundedLoader`, which refuses, at the line where it happens,
what would otherwise end in a traceback: lists and mappings nested deeper than `MAX_DEPTH`
(PyYAML's composer recurses once per level: 5,000 nested `[` raise RecursionError) and an
integer longer than `MAX_INT_CHARS` (Python refuses to convert one of more than 4,300 digits,
and a sexagesimal one like `1:2:3` costs time quadratic in its length).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node, ScalarNode

from ivr.errors import IvrError

MAX_DEPTH = 50
"""Deepest nesting (levels of lists and mappings, the top level being 1) a file may have. The
deepest file ivr ships, a script, needs 10; each level costs the composer two Python stack
frames, of the 1,000 Python allows."""
MAX_INT_CHARS = 100
"""Longest integer a file may hold (characters, sign, `_` and base prefix included): ivr reads
no number longer than a phone number given unquoted (15 digits, E.164); Python converts at
most 4,300 digits."""
MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest config or phrase-list file `read_yaml` reads (bytes, 4 MiB): ivr's own are under
16 KiB; call scripts have their tighter limit in `ivr.script.limits`."""

_INT_TAG = "tag:yaml.org,2002:int"


class YamlLimitError(yaml.MarkedYAMLError):
    """A document beyond `MAX_DEPTH` or `MAX_INT_CHARS`; `problem_mark` is where it goes beyond
    and `problem` says which limit, with the value found."""


class FileTooLargeError(IvrError):
    """A file above the size allowed; `size` is its size (bytes), or None when unknown (a pipe
    that went on past the limit)."""

    def __init__(self, path: str | Path, size: int | None, limit: int) -> None:
        self.path, self.size, self.limit = str(path), size, limit
        held = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
        super().__init__(f"{path}: the file holds {held}; at most {limit:,} bytes are read")

    def said_of(self, what: str) -> str:
        """What is wrong, said of a `what` (a script, a config file): its size against the
        limit, in bytes and in KiB or MiB (`262,144 bytes (256 KiB)`)."""
        mib = 1024 * 1024
        unit = f"{self.limit // mib} MiB" if self.limit % mib == 0 else f"{self.limit // 1024} KiB"
        limit = f"{self.limit:,} bytes ({unit})"
        if self.size is not None:
            return f"the file holds {self.size:,} bytes; a {what} may hold at most {limit}"
        return f"the file holds more than the {limit} a {what} may hold"


class BoundedLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that raises `YamlLimitError` beyond `MAX_DEPTH` or `MAX_INT_CHARS`."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlLimitError(
                    problem=f"lists and mappings nested deeper than {MAX_DEPTH} levels",
                    problem_mark=self.peek_event().start_mark,
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        long_number = isinstance(node, ScalarNode) and node.tag == _INT_TAG
        if long_number and len(node.value) > MAX_INT_CHARS:
            raise YamlLimitError(
                problem=f"a number of {len(node.value):,} characters (at most "
                f"{MAX_INT_CHARS} are read; quote it if it is text)",
                problem_mark=node.start_mark,
            )
        return node


def compose_yaml(text: str) -> Node | None:
    """The node tree (which keeps lines) of the YAML document `text`, or None if it is empty;
    `yaml.YAMLError` (a `YamlLimitError` beyond the limits) if it is not YAML."""
    return yaml.compose(text, Loader=BoundedLoader)


def load_yaml(text: str) -> Any:
    """The YAML document `text` as plain data; `yaml.YAMLError` as `compose_yaml`."""
    return yaml.load(text, Loader=BoundedLoader)  # a SafeLoader: no Python objects


def read_bytes(path: str | Path, limit: int) -> bytes:
    """The contents of `path`, read only when it holds at most `limit` bytes: a larger regular
    file is refused by its size before any is read, anything else (a pipe) once `limit` + 1
    bytes came. FileTooLargeError beyond it; OSError as `open` raises it."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > limit:
            raise FileTooLargeError(path, size, limit)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(path, None, limit)
    return data


def read_yaml(path: str | Path, what: str, compose: bool = False) -> Any:
    """The document of `path`: plain data, or with `compose` its node tree (which keeps lines).

    IvrError `path: no such <what>`, `path: cannot read <what>: ...`, `path: the file holds
    N bytes; a <what> may hold at most ...` (above `MAX_FILE_BYTES`), `path:line: invalid YAML:
    ...` or `path:line: <the limit passed>` (see `BoundedLoader`) otherwise."""
    try:
        text = read_bytes(path, MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise IvrError(f"{path}: no such {what}") from None
    except FileTooLargeError as exc:
        raise IvrError(f"{path}: {exc.said_of(what)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IvrError(f"{path}: cannot read {what}: {exc}") from None
    try:
        return compose_yaml(text) if compose else load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        label = "" if isinstance(exc, YamlLimitError) else "invalid YAML: "
        raise IvrError(f"{path}{where}: {label}{getattr(exc, 'problem', exc)}") from None

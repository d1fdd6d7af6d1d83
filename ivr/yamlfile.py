"""Reading a YAML file of ivr's (a config, a phrase list) with one-line errors that name it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ivr.errors import IvrError


def read_yaml(path: str | Path, what: str, compose: bool = False) -> Any:
    """The document of `path`: plain data, or with `compose` its node tree (which keeps lines).

    IvrError `path: no such <what>`, `path: cannot read <what>: ...` or
    `path:line: invalid YAML: ...` otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IvrError(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IvrError(f"{path}: cannot read {what}: {exc}") from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader) if compose else yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise IvrError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None

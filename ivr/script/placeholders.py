"""`{name}` placeholders in prompt texts: finding them, filling them, naming their CLI option.

`{{` and `}}` stand for literal braces. A placeholder is a bare name (letters, digits, `_`): no
format spec, conversion, index or attribute.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

_FORMATTER = string.Formatter()


def placeholder_names(text: str) -> list[str]:
    """The placeholder names in `text`, in order; ValueError describing malformed braces."""
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ValueError(
            f"malformed braces: {exc} (write {{{{ and }}}} for a literal brace)"
        ) from None
    names = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ValueError(
                f"malformed placeholder {shown}: a placeholder is a name of letters, digits "
                "and _ in braces, like {number}"
            )
        names.append(name)
    return names


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with every placeholder replaced by its value (all must be in `values`)."""
    out = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


def option_for(name: str) -> str:
    """The command-line option that gives placeholder `name`: agent_id -> --agent-id."""
    return "--" + name.replace("_", "-")

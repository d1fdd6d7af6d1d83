"""A recommended setting against the script's standard: the no-input wait it allows.

A script's `qa: noinput_s: [low, high]` (s) is the wait before a re-prompt that its service
standard allows (outbound, seed 000: 3秒左右, 2.5-3.5 s; inbound, seed 002: 稍停五秒, 4.5-5.5 s).
The tuner picks what the labelled calls reward, which may be a longer wait than the standard
allows (callees who answer late); it still recommends it, but says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.script.model import Script

NOINPUT_PARAM = "noinput"
"""The tuning axis of the no-input timeout (noinput_timeout_s, s; see SCRIPT_PARAMS)."""


def noinput_warnings(
    script: Script, setting: Mapping[str, Any], param: str = NOINPUT_PARAM
) -> list[str]:
    """One line for each no-input wait (s) of the recommended setting outside the standard's
    range (`Script.qa_noinput_s`); none if the script gives no range.

    When `setting` holds `param` (the grid varied it), that value is checked; otherwise the
    script's own noinput_timeout_s of each listening state (as loaded, `--config` included),
    which the setting leaves as they are.
    """
    allowed = script.qa_noinput_s
    if allowed is None:
        return []
    standard = f"the {script.direction} standard's {allowed}"
    where = f"{script.path}:{allowed.line}: qa: noinput_s" if allowed.line else script.path
    if param in setting:
        value = float(setting[param])
        if value in allowed:
            return []
        return [f"recommended {param} {value:g} s is outside {standard} ({where})"]
    states: dict[float, list[str]] = {}
    for state in script.states.values():
        if state.listen is not None and state.listen.noinput_timeout_s not in allowed:
            states.setdefault(state.listen.noinput_timeout_s, []).append(state.name)
    return [
        f"the script's own {param} {value:g} s (state{'s' if len(names) > 1 else ''} "
        f"{', '.join(names)}; the grid does not vary {param}) is outside {standard} ({where})"
        for value, names in sorted(states.items())
    ]


__all__ = ["NOINPUT_PARAM", "noinput_warnings"]

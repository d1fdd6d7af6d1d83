"""Changing a script's listening times from outside: tuning grids and config overlays.

`noinput`, `end_of_speech` and `max_speech` (s) apply to every listening state of the script,
the way `ivr tune` varies them and the way its recommended overlay (`script:` section of a
config file) gives them back to `ivr replay` and `ivr call`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ivr.script.model import Script

SCRIPT_PARAMS = {
    "noinput": ("noinput_timeout_s", 0.0, 60.0),
    "end_of_speech": ("end_of_speech_s", 0.0, 10.0),
    "max_speech": ("max_speech_s", 0.0, 120.0),
}
"""Override name -> (Listen field, exclusive low, inclusive high) in seconds."""


def with_timings(script: Script, overrides: Mapping[str, float]) -> Script:
    """A copy of `script` whose listening states use the given times (s).

    Raises ValueError naming an unknown name (listing the valid ones) or a value out of range.
    """
    changes = {}
    for name, value in overrides.items():
        if name not in SCRIPT_PARAMS:
            raise ValueError(f"unknown script timing {name!r}; valid: {', '.join(SCRIPT_PARAMS)}")
        field, low, high = SCRIPT_PARAMS[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number of seconds, got {value!r}")
        if not low < value <= high:
            raise ValueError(f"{name} must be in ({low:g}, {high:g}] s, got {value!r}")
        changes[field] = float(value)
    if not changes:
        return script
    states = {
        name: replace(state, listen=replace(state.listen, **changes))
        if state.listen is not None
        else state
        for name, state in script.states.items()
    }
    return replace(script, states=states)

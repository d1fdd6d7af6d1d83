"""Tuning grids: `--grid name=a:b:step` or `--grid name=v1,v2,...`, and their combinations.

Any script timing (`noinput`, `end_of_speech`, `max_speech`, in s) or detector setting
(`vad.aggressiveness`, `low_volume_dbfs`, ... see CallSettings.names()) can be an axis.
Detector settings split in two: those that change what the detectors output (FrontEndSettings:
`vad.*`, `noise.*`, `amd.*`, `choppy_gap_ms`; the detectors run again for each distinct value) and
thresholds applied to their outputs (classification, echo), which cost nothing to vary.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from ivr.call_settings import CallSettings, FrontEndSettings
from ivr.script.overrides import SCRIPT_PARAMS

MAX_COMBINATIONS = 100_000
"""Largest grid accepted (combinations)."""

FRONT_END_NAMES = frozenset(FrontEndSettings.names())
"""The settings that change the detectors' outputs (FrontEndSettings, dotted names)."""


def valid_names() -> list[str]:
    """Every name an axis can have."""
    return [*SCRIPT_PARAMS, *CallSettings.names()]


def changes_detector_output(name: str) -> bool:
    """Whether a setting changes the detectors' outputs (so they must run again)."""
    return name in FRONT_END_NAMES


def _number(text: str, axis: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--grid {axis}: {text!r} is not a number") from None


def parse_axis(text: str) -> tuple[str, list[float]]:
    """`name=a:b:step` (a to b inclusive) or `name=v1,v2,...` -> (name, values)."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not spec.strip():
        raise ValueError(f"--grid {text!r}: expected NAME=FROM:TO:STEP or NAME=V1,V2,...")
    if name not in valid_names():
        raise ValueError(f"--grid: unknown setting {name!r}; valid: {', '.join(valid_names())}")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ValueError(f"--grid {text!r}: a range is FROM:TO:STEP")
        low, high, step = (_number(p, name) for p in parts)
        if step <= 0 or high < low:
            raise ValueError(f"--grid {text!r}: needs FROM <= TO and STEP > 0")
        count = round((high - low) / step) + 1
        values = [round(low + i * step, 6) for i in range(count) if low + i * step <= high + 1e-9]
    else:
        values = [_number(p, name) for p in spec.split(",") if p.strip()]
    if not values:
        raise ValueError(f"--grid {text!r}: no values")
    return name, sorted(set(values))


def combinations(axes: Sequence[tuple[str, list[float]]]) -> list[dict[str, float]]:
    """Every combination of the axes' values, in a stable order."""
    names = [name for name, _ in axes]
    if len(set(names)) != len(names):
        raise ValueError(f"--grid: a setting is given twice: {', '.join(names)}")
    total = 1
    for _, values in axes:
        total *= len(values)
    if total > MAX_COMBINATIONS:
        raise ValueError(f"--grid: {total} combinations, more than {MAX_COMBINATIONS}")
    return [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))
    ]


def split(combo: Mapping[str, Any]) -> tuple[dict, dict, dict]:
    """(script timings, detector settings that change outputs, other detector settings)."""
    timings = {k: v for k, v in combo.items() if k in SCRIPT_PARAMS}
    detector = {k: v for k, v in combo.items() if k not in SCRIPT_PARAMS}
    inputs = {k: v for k, v in detector.items() if changes_detector_output(k)}
    thresholds = {k: v for k, v in detector.items() if not changes_detector_output(k)}
    return timings, inputs, thresholds

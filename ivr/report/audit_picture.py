"""The picture of one audited call (PNG): who spoke when on both sides, the agent's level, and
each moment the standard failed, on one time axis (s).

Two panels share the time axis:
- turns: the agent's and the customer's speech segments as bars on two lanes (the segments
  the audit measured: clear of each line's noise), so overlaps, gaps, holds and who spoke last
  show at a glance; music on hold taken out of the agent's speech as a thin hatched bar on
  the agent's lane;
- level: the agent's frame level (dBFS, in the speech band) over the volume item's range
  (level_min_dbfs to level_max_dbfs, shaded).
Each failed moment is a red line through both panels, labelled with its item's number (the
scorecard's numbering: 1 interrupting ... 7 dead air), with the items listed in the title.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ivr.audio.format import FRAME_S
from ivr.audit import Scorecard, Verdict
from ivr.audit.sides import CallSides
from ivr.events import Segment
from ivr.report.picture import png_figure

LEVEL_FLOOR_DBFS = -80.0
"""Bottom of the level panel (dBFS)."""

AGENT_COLOR, CUSTOMER_COLOR, FAIL_COLOR = "#1c7ed6", "#2b8a3e", "#c92a2a"
MUSIC_COLOR = "#dee2e6"
"""Music on hold on the agent's lane (ivr.audit.music): thin, hatched, not speech."""


def _bars(segments: list[Segment]) -> list[tuple[float, float]]:
    """Segments as (start s, length s)."""
    return [(s.start * FRAME_S, (s.end - s.start) * FRAME_S) for s in segments]


def draw_audit(sides: CallSides, card: Scorecard, out: Path) -> Path:
    """Draw the audited call's picture into `out` (PNG, written atomically); `out`."""
    end_s = max(sides.frames * FRAME_S, 1.0)
    with png_figure(out, 3.6, (1.0, 1.3)) as (fig, (turns, level)):
        music = [(a * FRAME_S, (b - a) * FRAME_S) for a, b in sides.agent_music.stretches]
        turns.broken_barh(music, (1.3, 0.4), color=MUSIC_COLOR, hatch="//")
        turns.broken_barh(_bars(sides.agent_speech), (1.1, 0.8), color=AGENT_COLOR)
        turns.broken_barh(_bars(sides.customer_speech), (0.1, 0.8), color=CUSTOMER_COLOR)
        turns.set_yticks([0.5, 1.5], ["customer", "agent"])
        turns.set_ylim(0, 2)
        _draw_level(level, sides, card)
        failed = [r for r in card.results if r.verdict is Verdict.FAIL]
        for result in failed:
            for moment in result.moments:
                for axis in (turns, level):
                    axis.axvline(moment, color=FAIL_COLOR, lw=1.2)
                turns.text(
                    moment, 1.98, f" {result.item.number}", color=FAIL_COLOR, fontsize=8,
                    va="top", ha="left",
                )  # fmt: skip
        level.set_xlim(0, end_s * 1.01)
        level.set_xlabel("call time (s)")
        listed = "; ".join(f"{r.item.number} {r.item.title}" for r in failed) or "no item failed"
        fig.suptitle(f"{card.name}: {listed}", fontsize=10, x=0.01, ha="left")
        fig.subplots_adjust(left=0.06, right=0.99, top=0.88, bottom=0.14, hspace=0.1)
    return out


def _draw_level(axis, sides: CallSides, card: Scorecard) -> None:
    """The agent's frame level (dBFS) with the volume item's range."""
    track = sides.agent.track
    if track is not None:
        level = np.maximum(np.asarray(track.level_dbfs, dtype=float), LEVEL_FLOOR_DBFS)
        axis.plot(np.arange(level.size) * FRAME_S, level, color=AGENT_COLOR, lw=0.6)
    settings = card.settings
    axis.axhspan(settings.level_min_dbfs, settings.level_max_dbfs, color="#e7f5ff", zorder=0)
    axis.set_ylim(LEVEL_FLOOR_DBFS, 0)
    axis.set_ylabel("agent dBFS", fontsize=8)

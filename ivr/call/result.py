"""How one call went, whatever carried it (a replayed recording, the sound card, a SIP line):
what every command keeps, scores and reports of a call (ivr.app.keeping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr.audio.format import frames_to_seconds
from ivr.timeline import Recognized, TimelineRecord


@dataclass
class CallResult:
    """How one call went: its outcome, why, its length, the prompts said, its timeline and
    where its recording and timeline were written."""

    name: str
    outcome: str
    reason: str
    frames: int
    prompts: list[str]
    timeline: list[TimelineRecord] = field(repr=False)
    """The call's timeline records (ivr.timeline), in order."""
    recording: Path | None = None
    timeline_path: Path | None = None
    notes: tuple[str, ...] = ()
    """What was odd about the replayed recording, each a few words (a file cut short,
    non-finite samples read as silence: ivr.audio.source.SourceInfo.warnings)."""

    @property
    def duration_s(self) -> float:
        """Length of the call up to the hang-up (s)."""
        return frames_to_seconds(self.frames)

    @property
    def heard(self) -> list[str]:
        """What recognition heard, each `text (intent, confidence)`."""
        return [
            f"{r.text or '-'} ({r.intent or 'no intent'}, {r.confidence:.2f})"
            for r in self.timeline
            if isinstance(r, Recognized)
        ]

    def summary(self) -> str:
        """One line: outcome, duration, prompts said, why it hung up, what was heard."""
        heard = f"; heard {' / '.join(self.heard)}" if self.heard else ""
        return (
            f"{self.name}: {self.outcome} after {self.duration_s:.2f} s; "
            f"prompts {', '.join(self.prompts) or '-'}; {self.reason}{heard}"
        )

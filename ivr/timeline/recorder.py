"""The timeline as a call writes it: one recorder, given at construction to the engine and to
the session's parts that add records (detector notes, the echo check, a live line's speaker).
"""

from __future__ import annotations

from ivr.timeline.records import TimelineRecord


class Timeline:
    """A call's timeline being written: records in the order they happened."""

    def __init__(self) -> None:
        self.records: list[TimelineRecord] = []
        """The records so far (ivr.timeline.records)."""

    def add(self, record: TimelineRecord) -> None:
        """Add `record`, which happened after every record already added."""
        self.records.append(record)

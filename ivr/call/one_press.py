"""One press of a key, however many ways it reaches us: a gateway may send a key both as its
tones in the audio (heard in band) and as an RFC 4733 telephone-event (out of band); the same
key from the other way within SAME_PRESS_FRAMES of the first is the same press."""

from __future__ import annotations

from ivr.events import InputEvent, KeyPressed, LineEvent

SAME_PRESS_FRAMES = 10
"""Frames (200 ms) within which a key heard in band and the same key sent out of band are one
press: the event comes at the key's start, the tones are decided 40-60 ms into it; two real
presses of one key are at least a key and a pause apart (Q.24: 40 + 40 ms) but people press
them 150 ms and more apart."""


class OnePress:
    """Drops the second report of a press (see the module)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, bool], int] = {}  # (key, out of band) -> decided frame

    def keep(
        self, in_band: list[LineEvent], out_of_band: tuple[InputEvent, ...]
    ) -> tuple[list[LineEvent], tuple[InputEvent, ...]]:
        """The block's line events and inputs without the keys already reported the other
        way (both in decided order; the earlier of the two reports of a press is kept)."""
        both = sorted(
            [(e.decided_frame, 0, i) for i, e in enumerate(in_band)]
            + [(e.decided_frame, 1, i) for i, e in enumerate(out_of_band)]
        )
        dropped = {
            (source, i)
            for _, source, i in both
            if not self._first((in_band, out_of_band)[source][i], source == 1)
        }
        return (
            [e for i, e in enumerate(in_band) if (0, i) not in dropped],
            tuple(e for i, e in enumerate(out_of_band) if (1, i) not in dropped),
        )

    def _first(self, event: object, out_of_band: bool) -> bool:
        if not isinstance(event, KeyPressed):
            return True
        other = self._last.get((event.key, not out_of_band))
        if other is not None and abs(event.decided_frame - other) <= SAME_PRESS_FRAMES:
            return False
        self._last[(event.key, out_of_band)] = event.decided_frame
        return True

"""A campaign's names as the call log, the console and the disk see them.

The campaign's name (`--name`, else the call list's stem) and each row's key (its `id`, else
`line N`) come from data. Unless `show_numbers`, the phone numbers in them are masked before
they are logged or shown (`13912345090` -> `139****5090`); two keys that mask alike get `-2`,
`-3`, ... in list order (keep such rows in their order, or use ids without a phone number, so
that a resumed campaign finds them again). On disk they are safe file names
(ivr.safe_names): recordings go to `<out>/<folder>/<stem>-<attempt>.wav`, never outside `out`.

A campaign logged with numbers shown is resumed without them and the other way round: its
attempts are looked up under both forms of its name and keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ivr.campaign.calllist import CallRow
from ivr.campaign.plan import Attempt
from ivr.privacy import mask_number
from ivr.safe_names import inside, safe_name, unique_names


def _unique(texts: Iterable[str]) -> list[str]:
    """`texts` in order, one already given getting `-2`, `-3`, ..."""
    out, taken = [], set()
    for text in texts:
        unique, n = text, 1
        while unique in taken:
            n += 1
            unique = f"{text}-{n}"
        taken.add(unique)
        out.append(unique)
    return out


@dataclass(frozen=True)
class CampaignNames:
    """`name`: the campaign's name as logged and shown; `folder`: its folder under --out;
    `keys`: row key -> as logged and shown; `stems`: row key -> the stem of its files."""

    name: str
    folder: str
    keys: dict[str, str]
    stems: dict[str, str]
    other_name: str
    """The campaign's name in the other form (numbers shown, or masked)."""
    other_keys: dict[str, str]

    @classmethod
    def of(cls, name: str, rows: Sequence[CallRow], show_numbers: bool) -> CampaignNames:
        """The names of the campaign `name` (as given) over `rows` (their keys unique)."""
        raw = [row.key for row in rows]
        masked = _unique(mask_number(key) for key in raw)
        logged, other = (raw, masked) if show_numbers else (masked, raw)
        shown = name if show_numbers else mask_number(name)
        stems = unique_names(key.replace(" ", "-") for key in logged)
        return cls(
            shown,
            safe_name(shown),
            dict(zip(raw, logged, strict=True)),
            dict(zip(raw, stems, strict=True)),
            mask_number(name) if show_numbers else name,
            dict(zip(raw, other, strict=True)),
        )

    def logged_names(self) -> list[str]:
        """The names the campaign's calls may be logged under: this form's, then the other's."""
        return list(dict.fromkeys([self.name, self.other_name]))

    def from_log(self, attempts: Iterable[Attempt]) -> list[Attempt]:
        """`attempts` as logged (under either form of name and key) at the list's row keys, in
        order; an attempt at a key the list no longer has is left to the plan (which ignores
        it), the same attempt logged under both forms is taken once."""
        back = {logged: key for key, logged in self.other_keys.items()}
        back.update({logged: key for key, logged in self.keys.items()})  # this form wins
        out, seen = [], set()
        for attempt in attempts:
            key = back.get(attempt.row_key, attempt.row_key)
            if (key, attempt.attempt) not in seen:
                seen.add((key, attempt.attempt))
                out.append(replace(attempt, row_key=key))
        return out

    def recording(self, out: Path, row: CallRow, attempt: int) -> Path:
        """Where attempt `attempt` at `row` is recorded: `out`/folder/stem-attempt.wav (its
        timeline beside it); IvrError if that would not be inside `out`."""
        return inside(out, out / self.folder / f"{self.stems[row.key]}-{attempt}.wav")

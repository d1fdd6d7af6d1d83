"""Which recordings a command replays, and the names of what it writes for each."""

from __future__ import annotations

from pathlib import Path

from ivr.privacy import mask_number
from ivr.safe_names import unique_names

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".au", ".aiff", ".aif"}
"""File endings picked up from a folder."""


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; folders as the audio files inside them (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
            found = [p for p in found if not p.name.endswith(".call.wav")]
            files.extend(found)
        else:
            files.append(path)
    return files


def output_stems(files: list[Path], show_numbers: bool) -> list[str]:
    """The stem of each file's outputs (`<stem>.call.wav`, ...): its own, with phone numbers
    masked unless `show_numbers`, made a safe file name (ivr.safe_names: no separator or
    control character, no leading dot or dash, not too long); stems that would clash get -2,
    -3, ... added."""
    return unique_names(path.stem if show_numbers else mask_number(path.stem) for path in files)


STAMP_FORMAT = "%Y.%m.%d_%Hh%Mm%Ss"
"""The local time in the names of a line call's files, e.g. call-2026.12.02_20h47m15s.wav: no
run of 7 digits even with a sequence number after it, so masking numbers leaves it alone."""


def time_stamp() -> str:
    """The local time now, as the names of a line call's files carry it."""
    import time

    return time.strftime(STAMP_FORMAT)

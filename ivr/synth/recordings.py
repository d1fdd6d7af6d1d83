"""Real human recordings from Debian packages besides pocketsphinx-testdata.

A phrase `<set>:<relative path>` names one of them:

- `alsa:Front_Center.wav`: alsa-utils' speaker-test voice, `/usr/share/sounds/alsa/*.wav`
  (one woman saying "Front Center", "Rear Left" and so on; 48 kHz mono, 1.3-1.5 s each).
- `asterisk:en_US_f_Allison/demo-congrats.wav`: the Asterisk PBX prompts recorded by Allison
  Smith (asterisk-core-sounds-en-wav) and, under `fr_CA_f_June/`, by June Wallack in French
  (asterisk-core-sounds-fr-wav), `/usr/share/asterisk/sounds/`; 8 kHz mono, from 0.5 s words
  to 30 s of continuous speech with natural pauses of up to 0.5 s. Their texts come from the
  packages' `core-sounds-<language>.txt.gz` lists.

`$IVR_ALSA_SOUNDS_DIR` and `$IVR_ASTERISK_SOUNDS_DIR` override the directories.
"""

from __future__ import annotations

import functools
import gzip
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class RecordingSet:
    """Recordings a Debian package installs under one directory."""

    prefix: str
    """Phrase prefix, e.g. `alsa:`."""
    default_dir: Path
    """Where the package installs them."""
    env: str
    """Environment variable overriding the directory."""
    packages: str
    """The Debian packages to install (for the error message)."""

    def directory(self) -> Path:
        """The directory in use."""
        return Path(os.environ.get(self.env) or self.default_dir)


ALSA = RecordingSet("alsa:", Path("/usr/share/sounds/alsa"), "IVR_ALSA_SOUNDS_DIR", "alsa-utils")
ASTERISK = RecordingSet(
    "asterisk:",
    Path("/usr/share/asterisk/sounds"),
    "IVR_ASTERISK_SOUNDS_DIR",
    "asterisk-core-sounds-en-wav asterisk-core-sounds-fr-wav",
)
RECORDING_SETS = (ALSA, ASTERISK)

ASTERISK_TEXTS = Path("/usr/share/doc")
"""Where the asterisk sound packages put their lists of texts (core-sounds-<lang>.txt.gz)."""

ALSA_VOICE = tuple(
    f"alsa:{name}.wav"
    for name in (
        "Front_Center",
        "Front_Left",
        "Front_Right",
        "Rear_Center",
        "Rear_Left",
        "Rear_Right",
        "Side_Left",
        "Side_Right",
    )
)
"""alsa-utils' speaker-test voice: short phrases of one woman (Noise.wav is not speech)."""

ALLISON_LONG = tuple(
    f"asterisk:en_US_f_Allison/{name}.wav"
    for name in ("demo-congrats", "basic-pbx-ivr-main", "conf-onlyperson", "pls-hold-while-try")
)
"""Allison Smith's longer prompts (2.4-30 s of continuous speech)."""

JUNE_LONG = tuple(
    f"asterisk:fr_CA_f_June/{name}.wav"
    for name in ("demo-congrats", "conf-onlyperson", "pls-hold-while-try", "agent-alreadyon")
)
"""June Wallack's longer prompts, in French."""


class RecordingError(ValueError):
    """A malformed `<set>:<path>` phrase."""


def recording_set(phrase: str) -> RecordingSet | None:
    """The set a phrase names a recording of, or None."""
    return next((s for s in RECORDING_SETS if phrase.startswith(s.prefix)), None)


def resolve(phrase: str) -> tuple[RecordingSet, Path, str | None]:
    """(set, file, transcription or None) of a `<set>:<path>` phrase.

    Raises `RecordingError` on a malformed phrase; the file may not exist.
    """
    found = recording_set(phrase)
    if found is None:
        raise RecordingError(f"phrase {phrase!r} names no recording set")
    relative = PurePosixPath(phrase[len(found.prefix) :])
    if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".wav":
        raise RecordingError(
            f"phrase {phrase!r}: expected {found.prefix}<relative path of a .wav file under "
            f"{found.default_dir}>"
        )
    path = found.directory() / relative
    if found is ALSA:
        text = relative.stem.replace("_", " ").lower()
    else:
        language = relative.parts[0].split("_")[0] if len(relative.parts) > 1 else ""
        text = _asterisk_texts(language).get(relative.stem)
    return found, path, text


def missing_message(found: RecordingSet, path: Path) -> str:
    """What to say when a recording is not installed."""
    if not found.directory().is_dir():
        return (
            f"{found.directory()}: recordings not found; "
            f"install them with `apt-get install {found.packages}`"
        )
    return f"{path}: recording not found (from `apt-get install {found.packages}`)"


@functools.lru_cache(maxsize=8)
def _asterisk_texts(language: str) -> dict[str, str]:
    """Sound name to its text, from the package's core-sounds-<language>.txt.gz list."""
    if not language.isalpha():
        return {}
    path = ASTERISK_TEXTS / f"asterisk-core-sounds-{language}" / f"core-sounds-{language}.txt.gz"
    try:
        lines = gzip.decompress(path.read_bytes()).decode("utf-8", "replace").splitlines()
    except OSError:
        return {}
    texts = {}
    for line in lines:
        name, colon, text = line.partition(":")
        if colon and not line.startswith(";") and " " not in name.strip():
            texts[name.strip()] = " ".join(text.split())
    return texts

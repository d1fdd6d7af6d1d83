"""What recognition a call runs with (`--asr`, `--model`): Vosk, reference transcripts from a
manifest, or none (detector-only: speech counts as an answer)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.asr.models import ModelLocation
    from ivr.call.recognition import AsrBackend, VoskBackend

ASR_MODES = ("vosk", "reference", "none")
"""--asr: the Vosk recognizer, reference transcripts from a manifest, or detector-only."""

MANDARIN = ("cn", "zh", None)
"""Model languages usable with ivr's Mandarin scripts (None: not known from the name)."""


@dataclass(frozen=True)
class Recognition:
    """The recognition calls use: a Vosk backend, or reference transcripts by file name, or
    neither, with a notice to print once when calls run without."""

    vosk: VoskBackend | None = None
    model: ModelLocation | None = None
    """Where the Vosk model was found."""
    reference: dict[str, list[tuple[float, float, str]]] | None = None
    """File name -> its labelled speech (start_s, end_s, text)."""
    notice: str = ""

    @property
    def recognizes(self) -> bool:
        """Whether calls get recognition results."""
        return self.vosk is not None or self.reference is not None

    def backend_for(self, path: Path) -> AsrBackend | None:
        """The backend for the call of recording `path`."""
        if self.reference is not None:
            from ivr.call.recognition import ReferenceBackend

            return ReferenceBackend(self.reference.get(Path(path).name, []))
        return self.vosk


def set_up_recognition(asr: str, model: str | None, reference: Path | None) -> Recognition:
    """What recognition calls use, for --asr `asr` (one of ASR_MODES), --model and the
    manifest with reference transcripts."""
    if asr == "none":
        return Recognition(notice="recognition off (--asr none): speech counts as an answer")
    if asr == "reference":
        from ivr.call.recognition import reference_transcripts

        if reference is None:
            raise IvrError("--asr reference needs a manifest with transcripts: give --expect")
        return Recognition(reference=reference_transcripts(reference))
    from ivr.asr.models import find_model
    from ivr.asr.recognizer import SpeechModel
    from ivr.call.recognition import VoskBackend

    location = find_model(model)
    chosen = location is not None and location.source in ("--model", "IVR_VOSK_MODEL")
    if location is None or (not chosen and location.language not in MANDARIN):
        found = "" if location is None else f" ({location.name} from {location.source} is not)"
        return Recognition(
            notice="no Mandarin speech model found"
            + found
            + ": calls run in detector-only mode (speech counts as an answer, no transcripts); "
            "`ivr models fetch vosk-model-small-cn-0.22`, or --asr reference"
        )
    return Recognition(VoskBackend(SpeechModel(location.path)), location)

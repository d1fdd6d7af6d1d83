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


ASR_OFF_NOTICE = "recognition off (--asr none): speech counts as an answer"
"""The notice of `--asr none`."""


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

    @property
    def summary(self) -> str:
        """One line for the report on how calls were recognized: `recognition: Vosk model
        NAME`, `recognition: reference transcripts`, `recognition: off (--asr none)` or
        `recognition: off (no speech model)`; without recognition speech counts as an
        answer."""
        if self.reference is not None:
            return "recognition: reference transcripts (--asr reference)"
        if self.vosk is not None:
            return f"recognition: Vosk model {self.model.name if self.model else ''}".rstrip()
        why = "--asr none" if self.notice == ASR_OFF_NOTICE else "no speech model"
        return f"recognition: off ({why}): speech counts as an answer"


@dataclass(frozen=True)
class ModelChoice:
    """The Vosk model calls of ivr's Mandarin scripts recognize with, or None; and a usable
    model found but passed over for its language (None: there was none)."""

    used: ModelLocation | None
    passed_over: ModelLocation | None = None


def choose_model(model: str | None) -> ModelChoice:
    """The model recognition uses with --model `model`: the one named (by --model or
    $IVR_VOSK_MODEL) whatever its language, else the first sound model found whose language
    is Mandarin or not known (ivr.asr.models.local_models' order). ModelNotFoundError for a
    named model that is missing or broken."""
    from ivr.asr.models import MODEL_ENV, check_model, find_model, local_models

    named = find_model(model)
    if named is not None and named.source in ("--model", MODEL_ENV):
        return ModelChoice(named)
    usable = [found for found in local_models() if not check_model(found.path)]
    mandarin = next((found for found in usable if found.language in MANDARIN), None)
    if mandarin is not None:
        return ModelChoice(mandarin)
    return ModelChoice(None, usable[0] if usable else None)


def no_model_found(passed_over: ModelLocation | None) -> str:
    """`no Mandarin speech model found`, with the model passed over for its language."""
    if passed_over is None:
        return "no Mandarin speech model found"
    language = passed_over.language or "of no known language"
    return (
        f"no Mandarin speech model found ({passed_over.name} from {passed_over.source} is "
        f"{language}, not Mandarin)"
    )


def model_advice(can_model: bool = True, can_reference: bool = False) -> str:
    """What to do for recognition: fetch the default Mandarin model (used from then on
    without any option); where the command takes them, name one with --model (`can_model`), or
    --asr reference with a manifest's transcripts (`can_reference`)."""
    from ivr.asr.models import DEFAULT_MODEL

    ways = [f"`ivr models fetch {DEFAULT_MODEL}` (calls use it from then on)"]
    if can_model:
        ways.append("--model FOLDER")
    if can_reference:
        ways.append("--asr reference --expect MANIFEST (its transcripts)")
    return "to recognize speech: " + ", or ".join(ways)


def set_up_recognition(
    asr: str, model: str | None, reference: Path | None, can_reference: bool = False
) -> Recognition:
    """What recognition calls use, for --asr `asr` (one of ASR_MODES), --model and the
    manifest with reference transcripts; `can_reference`: whether the command takes
    `--asr reference` (the notice without a model says so only then)."""
    if asr == "none":
        return Recognition(notice=ASR_OFF_NOTICE)
    if asr == "reference":
        from ivr.call.recognition import reference_transcripts

        if reference is None:
            raise IvrError("--asr reference needs a manifest with transcripts: give --expect")
        return Recognition(reference=reference_transcripts(reference))
    from ivr.asr.recognizer import SpeechModel
    from ivr.call.recognition import VoskBackend

    choice = choose_model(model)
    if choice.used is None:
        return Recognition(
            notice=f"{no_model_found(choice.passed_over)}: calls run in detector-only mode "
            f"(speech counts as an answer, no transcripts); {model_advice(True, can_reference)}"
        )
    return Recognition(VoskBackend(SpeechModel(choice.used.path)), choice.used)

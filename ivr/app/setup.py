"""Setting up a call: the script with its placeholder values and config timings, the call
settings, the prompts rendered beforehand (a call never waits for synthesis), the recognition.

The script and the settings are read once (`load_call_script`, ivr.app.config.call_settings)
and can travel to worker processes as they are; `set_up_call` adds what each process makes
for itself (the prompt cache, the recognizer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.app.config import apply_script_config
from ivr.app.recognition import Recognition, set_up_recognition
from ivr.call_settings import CallSettings

if TYPE_CHECKING:
    from ivr.qa.phrases import ForbiddenPhrase
    from ivr.script.model import Script
    from ivr.tts.prompt_cache import PromptAudio, PromptCache


def load_call_script(
    script: str,
    values: dict[str, str],
    config: Path | None,
    given_by: Callable[[str], str] | None = None,
) -> Script:
    """Script `script` (a bundled name or a path) with placeholder `values` and the `--config`
    file's timings; IvrError naming what is wrong (`given_by(name)`: what gives a placeholder
    the values lack, for its hint; default its option)."""
    from ivr.script.loader import load_script
    from ivr.script.placeholders import option_for

    return apply_script_config(load_script(script, values, given_by or option_for), config)


@dataclass(frozen=True)
class CallSetup:
    """Everything a call runs with besides its audio."""

    script: Script
    settings: CallSettings
    prompts: PromptCache
    """The prompt cache, every prompt of `script` rendered."""
    prompt_audio: dict[str, PromptAudio]
    """Prompt id -> its rendered audio."""
    recognition: Recognition

    @classmethod
    def rendered(
        cls, script: Script, settings: CallSettings, prompts: PromptCache, recognition: Recognition
    ) -> CallSetup:
        """The set-up of a call of `script`, every prompt of it rendered into `prompts` first
        (a call never waits for synthesis)."""
        return cls(script, settings, prompts, prompts.render_all(script.prompts), recognition)

    def prompt_frames(self) -> dict[str, int]:
        """Prompt text -> its length (20 ms frames)."""
        return {self.script.prompts[p]: a.frames for p, a in self.prompt_audio.items()}


def set_up_call(
    script: Script,
    settings: CallSettings,
    prompt_cache: Path | None,
    asr: str = "none",
    model: str | None = None,
    reference: Path | None = None,
    can_reference: bool = False,
) -> CallSetup:
    """Render the prompts of `script` into `prompt_cache` and set up recognition (`--asr`, one
    of ivr.app.recognition.ASR_MODES; `--model`; the manifest of reference transcripts;
    `can_reference`: whether the command takes `--asr reference`, for the notice's hint)."""
    from ivr.tts.prompt_cache import PromptCache

    cache = PromptCache(prompt_cache)
    recognition = set_up_recognition(asr, model, reference, can_reference)
    return CallSetup.rendered(script, settings, cache, recognition)


@dataclass(frozen=True)
class LineCallSetup:
    """A call on a line (`ivr call`, `ivr dial`) set up: its placeholder values, the call's
    set-up, the forbidden phrases its QA checks."""

    values: dict[str, str]
    call: CallSetup
    forbidden: list[ForbiddenPhrase]


def set_up_line_call(
    script: str,
    config: Path | None,
    placeholders: dict[str, str | None],
    overrides: list[str],
    prompt_cache: Path | None,
    asr: str,
    model: str | None,
    answer_within_ms: int | None,
) -> LineCallSetup:
    """Everything a call on a line needs before it is placed: the script with its values
    (`placeholders`: org, agent_id, number as given), the settings, every prompt rendered, the
    recognizer, and the QA limits checked; IvrError or ValueError naming what is wrong."""
    from ivr.app.config import call_settings, placeholder_values
    from ivr.qa.phrases import load_forbidden
    from ivr.qa.score import QaSettings

    values = placeholder_values(config, **placeholders)
    loaded = load_call_script(script, values, config)
    settings = call_settings(config, overrides)
    call = set_up_call(loaded, settings, prompt_cache, asr, model)  # renders every prompt
    forbidden = load_forbidden()
    QaSettings.for_script(loaded, answer_within_ms)
    return LineCallSetup(values, call, forbidden)

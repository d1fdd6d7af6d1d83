"""Text to speech: Mandarin prompts and callee phrases rendered offline with espeak-ng."""

from ivr.tts.prompt_cache import PromptAudio, PromptCache, VoiceSettings
from ivr.tts.synthesizer import Synthesizer, TtsError

__all__ = ["PromptAudio", "PromptCache", "Synthesizer", "TtsError", "VoiceSettings"]

"""Text to speech: Mandarin prompts and callee phrases rendered offline with espeak-ng."""

from ivr.tts.synthesizer import Synthesizer, TtsError

__all__ = ["Synthesizer", "TtsError"]

"""Speech recognition: Vosk models (finding, checking, loading, fetching) and the recognizer."""

from ivr.asr.fetch import fetch_model
from ivr.asr.models import (
    DEFAULT_MODEL,
    KNOWN_MODELS,
    KnownModel,
    ModelLocation,
    check_model,
    find_model,
    load_model,
)

__all__ = [
    "DEFAULT_MODEL",
    "KNOWN_MODELS",
    "KnownModel",
    "ModelLocation",
    "check_model",
    "fetch_model",
    "find_model",
    "load_model",
]

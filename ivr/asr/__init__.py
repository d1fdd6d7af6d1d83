"""Speech recognition: Vosk models (finding, checking, loading, fetching)."""

from ivr.asr.models import (
    DEFAULT_MODEL,
    KNOWN_MODELS,
    KnownModel,
    ModelLocation,
    check_model,
    fetch_model,
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

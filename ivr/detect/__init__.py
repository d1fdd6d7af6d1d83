"""Detectors fed frame by frame: voice activity, level, noise floor, and window classification."""

from ivr.detect.analysis import Analysis, analyze
from ivr.detect.classify import Situation, classify_window
from ivr.detect.frontend import BlockResult, Detectors
from ivr.detect.settings import (
    CallSettings,
    ClassifySettings,
    EchoSettings,
    FrontEndSettings,
    NoiseSettings,
    VadSettings,
)

__all__ = [
    "Analysis",
    "BlockResult",
    "CallSettings",
    "ClassifySettings",
    "Detectors",
    "EchoSettings",
    "FrontEndSettings",
    "NoiseSettings",
    "Situation",
    "VadSettings",
    "analyze",
    "classify_window",
]

"""Detectors fed frame by frame: voice activity, level, noise floor, and window classification."""

from ivr.detect.analysis import Analysis, analyze
from ivr.detect.classify import Situation, classify_window
from ivr.detect.frontend import BlockResult, Detectors
from ivr.detect.settings import DetectorSettings, NoiseSettings, VadSettings

__all__ = [
    "Analysis",
    "BlockResult",
    "DetectorSettings",
    "Detectors",
    "NoiseSettings",
    "Situation",
    "VadSettings",
    "analyze",
    "classify_window",
]

"""Detectors fed frame by frame: voice activity, level, noise floor, and window classification.

Their settings are in ivr.call_settings, below this package."""

from ivr.detect.analysis import Analysis, analyze
from ivr.detect.classify import Situation, classify_window
from ivr.detect.frontend import BlockResult, Detectors

__all__ = [
    "Analysis",
    "BlockResult",
    "Detectors",
    "Situation",
    "analyze",
    "classify_window",
]

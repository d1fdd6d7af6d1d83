"""The dialog engine: a pure, frame-timed state machine that performs call scripts."""

from ivr.engine.actions import EngineAction, HangUp, PlayPrompt, StopPrompt
from ivr.engine.engine import Engine
from ivr.engine.state import Phase

__all__ = ["Engine", "EngineAction", "HangUp", "Phase", "PlayPrompt", "StopPrompt"]

"""Call scripts: the typed model (`ivr.script.model`) and its YAML loader with validation.

`load_script("outbound", {"agent_id": "1001", "number": "13800000000"})` gives a frozen
`Script` whose prompts are filled in; any fault in the file is a one-line `ScriptError` naming
the file, the line and the rule broken.
"""

from ivr.script.loader import PROMPTS_DIR, list_scripts, load_script, script_path
from ivr.script.model import (
    EVENTS,
    Action,
    Goto,
    Handler,
    HangupAction,
    Listen,
    Pause,
    Say,
    Script,
    SetInputGain,
    SetOutputVolume,
    State,
)
from ivr.vocabulary import NO_PROGRESS_EVENTS

__all__ = [
    "EVENTS",
    "NO_PROGRESS_EVENTS",
    "PROMPTS_DIR",
    "Action",
    "Goto",
    "Handler",
    "HangupAction",
    "Listen",
    "Pause",
    "Say",
    "Script",
    "SetInputGain",
    "SetOutputVolume",
    "State",
    "list_scripts",
    "load_script",
    "script_path",
]

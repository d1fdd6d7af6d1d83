"""The error hierarchy: every failure ivr reports to a user is an `IvrError`.

Messages are one line and name the thing at fault (file, parameter, device) and the reason.
"""

from __future__ import annotations

from pathlib import Path


class IvrError(Exception):
    """Base of all errors ivr reports to its users."""


class AudioFormatError(IvrError):
    """An audio file or stream cannot be read: the message names the file and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OutputError(IvrError, OSError):
    """A file could not be written: the message names the file and the reason; `no_space` when
    its disk is full (a batch stops then: every later file would fail the same way). Also an
    OSError, so code that catches write failures as OSError still does."""

    def __init__(self, path: str | Path, message: str, no_space: bool = False) -> None:
        super().__init__(message)
        self.path = str(path)
        self.no_space = no_space


class ScriptError(IvrError):
    """A call script is invalid: the message names the file, the line and the rule broken."""


class ModelNotFoundError(IvrError):
    """A speech-recognition model is missing or unusable: the message names the path."""


class DeviceError(IvrError):
    """An audio device is missing or failed."""


class LineEnded(IvrError):
    """The line ended the call from its side: the callee hung up, or the call never got
    through, or its audio failed; `outcome` names how (`callee_hangup`, `busy`, `no_answer`,
    `unreachable`, `call_failed`, `media_error`)."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome

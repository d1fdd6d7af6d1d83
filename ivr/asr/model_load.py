"""Loading a Vosk model, once per process, with Vosk's own log output kept off stderr.

`vosk` is imported only here, when a model is loaded: finding and checking models never needs
it. A folder that fails the check (ivr.asr.model_check), or that Vosk cannot read, raises
ModelNotFoundError naming the path and the reason from Vosk's log.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ivr.asr.model_check import check_model
from ivr.errors import ModelNotFoundError

if TYPE_CHECKING:
    import vosk

_LOADED: dict[str, Any] = {}
"""The models loaded so far, by the real path of their folder."""
_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _stderr_into(sink: IO[bytes]) -> Iterator[None]:
    """Send file descriptor 2 to `sink` for the block: Kaldi and OpenFst write there directly."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep clean
        yield
        return
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_LOG_ERROR_RE = re.compile(r"^(?:ERROR|ASSERTION_FAILED)(?: \(\S+\) |: ?)(.*)$")
_REASON_CHARS = 300
"""Longest reason from Vosk's log put in an error message (characters)."""


def _log_errors(log: bytes) -> str:
    """The error messages in Vosk's log output, as one printable line."""
    messages: list[str] = []
    for line in log.decode("utf-8", "replace").splitlines():
        match = _LOG_ERROR_RE.match(line.strip())
        if match:
            text = "".join(
                c if c.isprintable() and c != "\ufffd" else "?" for c in match.group(1)
            ).strip()
            if text and text not in messages:
                messages.append(text)
    reason = "; ".join(messages)
    if len(reason) > _REASON_CHARS:
        reason = reason[: _REASON_CHARS - 3] + "..."
    return reason


def _load_vosk(path: Path) -> vosk.Model:
    import vosk

    vosk.SetLogLevel(-1)  # no LOG lines; errors still reach fd 2 and are captured below
    with tempfile.TemporaryFile() as log:
        failure: Exception | None = None
        with _stderr_into(log):
            try:
                model = vosk.Model(model_path=str(path))
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                failure = exc
        if failure is None:
            return model
        log.seek(0)
        reason = _log_errors(log.read()) or str(failure)
    raise ModelNotFoundError(
        f"{path}: vosk cannot load it, a file is corrupt or incompatible: {reason}"
    ) from failure


def load_model(path: str | Path) -> vosk.Model:
    """The Vosk model in `path`, loaded once per process (loading takes seconds).

    Raises ModelNotFoundError naming the path and what is wrong: a missing or incomplete folder
    (see `check_model`) or a file Vosk cannot read. Vosk's own log output is kept off stderr:
    while a model loads, file descriptor 2 goes to a temporary file (anything other threads
    write to stderr in those seconds is not shown).
    """
    path = Path(path).absolute()
    problems = check_model(path)
    if problems:
        raise ModelNotFoundError(f"{path}: {'; '.join(problems)}")
    key = os.path.realpath(path)
    with _LOAD_LOCK:
        model = _LOADED.get(key)
        if model is None:
            model = _load_vosk(path)
            _LOADED[key] = model
    return model


def clear_model_cache() -> None:
    """Forget the models loaded so far (they are freed once nothing else uses them)."""
    with _LOAD_LOCK:
        _LOADED.clear()

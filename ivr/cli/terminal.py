"""The terminal while a live panel is up (ivr.cli.live_view): what would break the panel is
held back.

- **Standard error, at the file-descriptor level.** The sound card's C library writes straight
  to descriptor 2 (`ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred`), below Python
  and rich, so its lines would land inside the panel. `HeldStderr` points descriptor 2 at a
  temporary file while the panel is up; afterwards ALSA's lines are counted and everything else
  is written to the real standard error, in order.
- **The echo of control characters.** A terminal echoes Ctrl-C as `^C`; after the panel's last
  line, which fills the terminal's width, those two characters wrap onto a new line, and the
  panel's next redraw, which moves up by its height, starts one line too low: its top border
  shows twice. `NoControlEcho` turns that echo off (`ECHOCTL`; typed text still echoes) and
  puts it back.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import IO, Any

ALSA_PREFIX = "ALSA lib "
"""How every message of libasound's default error handler starts."""


class HeldStderr:
    """Descriptor 2 goes to a temporary file within; on leaving, ALSA's lines are counted
    (`alsa_lines`) and the other lines go to standard error. Safe to leave twice."""

    def __init__(self) -> None:
        self.alsa_lines: list[str] = []
        """ALSA's messages held back, in order."""
        self._saved: int | None = None
        self._held: IO[bytes] | None = None

    def __enter__(self) -> HeldStderr:
        sys.stderr.flush()
        self._held = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._held.fileno(), 2)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._saved is None or self._held is None:
            return
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._saved = None
        self._held.seek(0)
        text = self._held.read().decode("utf-8", errors="replace")
        self._held.close()
        self._held = None
        others = []
        for line in text.splitlines(keepends=True):
            if line.startswith(ALSA_PREFIX):
                self.alsa_lines.append(line.rstrip("\n"))
            else:
                others.append(line)
        if others:
            os.write(2, "".join(others).encode("utf-8"))


class NoControlEcho:
    """The terminal of `stream` does not echo control characters (Ctrl-C as `^C`) within; a
    stream that is no terminal is left alone."""

    def __init__(self, stream: IO[Any]) -> None:
        self._stream = stream
        self._fd: int | None = None
        self._saved: list[Any] | None = None

    def __enter__(self) -> NoControlEcho:
        try:
            import termios

            fd = self._stream.fileno()
            if not os.isatty(fd):
                return self
            saved = termios.tcgetattr(fd)
            quiet = list(saved)
            quiet[3] = saved[3] & ~getattr(termios, "ECHOCTL", 0)
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
        except (ImportError, AttributeError, ValueError, OSError):  # no terminal to set
            return self
        self._fd, self._saved = fd, saved
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._fd is None or self._saved is None:
            return
        import termios

        with contextlib.suppress(OSError):
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        self._fd = self._saved = None


__all__ = ["ALSA_PREFIX", "HeldStderr", "NoControlEcho"]

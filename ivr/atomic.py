"""Atomic file output: write beside the target, then rename, so a crash never leaves half a file.

The temporary file is hidden beside its target and names the process writing it,
`.<target name>.<pid>.<random>.tmp`: a failed write removes it, but a process killed with
SIGKILL runs no cleanup and leaves it. `remove_stale` deletes the ones whose process is gone;
commands call it on the folders they are about to write (and `ivr replay` again when one of
its workers dies), so the next run leaves nothing of a killed one. Whether a process is gone is
asked of this machine: a folder written from two machines at once is not cleaned of the other's.

A write that fails for want of space raises `OutputError` with `no_space` set and a line that
says so (`no space left on /mnt/out while writing /mnt/out/a.call.wav`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ivr.errors import IvrError, OutputError

TMP_SUFFIX = ".tmp"
"""Ending of every temporary file `atomic_path` creates."""

LOW_SPACE_BYTES = 1 << 20
"""Free space (bytes) under which a write error with no errno is put down to a full disk:
libsndfile reports every failed write as `System error.` (its code 2) without saying why."""

_NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename.

    The file gets the mode `open()` would give it (FILE_MODE less the umask), not mkstemp's
    0600. On failure the temporary file is removed and the error raised again, as an
    OutputError (`no_space` set) when the disk is full."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=TMP_SUFFIX, dir=target.parent
        )
    except OSError as exc:
        if exc.errno in _NO_SPACE_ERRNOS:
            raise no_space_error(target) from None
        raise
    tmp_path = Path(tmp)
    try:
        try:
            os.fchmod(fd, FILE_MODE & ~current_umask())  # mkstemp made it 0600
        finally:
            os.close(fd)
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException as exc:
        full = _out_of_space(exc, target.parent)  # asked before the temporary file frees space
        tmp_path.unlink(missing_ok=True)
        if full:
            raise no_space_error(target) from None
        raise


FILE_MODE = 0o666
"""Mode of a written file before the umask takes its bits off, as `open()` creates files: with
umask 022 a report or recording is 0644, readable by others; with 077 it is 0600."""


def current_umask() -> int:
    """The process's umask, read without changing it where Linux says it (/proc/self/status);
    elsewhere set and put back at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def no_space_error(target: str | Path) -> OutputError:
    """The error of a write to `target` that found its disk full."""
    return OutputError(
        target,
        f"no space left on {mount_point(Path(target).parent)} while writing {target}",
        no_space=True,
    )


def _out_of_space(exc: BaseException, folder: Path) -> bool:
    if isinstance(exc, OutputError):
        return False  # already said
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE_ERRNOS:
        return True
    if isinstance(exc, IvrError) or not isinstance(exc, OSError | RuntimeError):
        return False  # not a write failure (a file that cannot be read, Ctrl-C, ...)
    return free_bytes(folder) < LOW_SPACE_BYTES


def free_bytes(folder: str | Path) -> int:
    """Bytes this process may still write under `folder` (root may use the reserved blocks);
    a very large number when that cannot be told."""
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):
        return 1 << 62
    blocks = stat.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else stat.f_bavail
    return blocks * stat.f_frsize


def mount_point(path: str | Path) -> Path:
    """The mount point of the file system holding `path` (what a user frees space on)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def remove_stale(folder: str | Path) -> int:
    """Remove the temporary files `atomic_path` left in `folder` (not below it) when their
    process was killed; how many. Files of a live process, and any other file, are kept."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        pid = _writer_pid(entry.name)
        if pid is None or _alive(pid) or not entry.is_file(follow_symlinks=False):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed += 1
    return removed


def _writer_pid(name: str) -> int | None:
    """The pid in a temporary file's name (`.<target>.<pid>.<random>.tmp`), else None."""
    if not (name.startswith(".") and name.endswith(TMP_SUFFIX)):
        return None
    parts = name[: -len(TMP_SUFFIX)].rsplit(".", 2)
    if len(parts) != 3 or len(parts[0]) < 2 or not parts[1].isdigit():
        return None
    return int(parts[1])


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: leave its files alone
    try:  # a killed process not yet reaped (a zombie) is gone all the same
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])


__all__ = [
    "FILE_MODE",
    "LOW_SPACE_BYTES",
    "TMP_SUFFIX",
    "atomic_path",
    "current_umask",
    "free_bytes",
    "mount_point",
    "no_space_error",
    "remove_stale",
    "write_text_atomic",
]

"""`ivr ARGS...` in a process of its own, forked from the test's: what `python -m ivr ARGS...`
does, without the interpreter's start-up.

A test process has imported ivr, numpy, soundfile and typer already; a fresh `python -m ivr`
imports them again (0.4-1 s a command on the test machines, most of what a short command
costs). Forking keeps what is imported and nothing else of the test's: the child gets the
command's own working folder, standard input from /dev/null, its standard output and error in
files the parent reads, Python's default signal handlers, warning filters and root logger, no
exit handlers of the parent's (pytest's own remove folders), and it runs `ivr/__main__.py` as
`python -m ivr` does (`runpy`, so the program name in usage lines is the same). Exit handlers
the command registers run; then the child leaves with the command's status, at once.

What is not the command's own stays out of reach: a crash or a hang kills the child, never the
test run (after `timeout` seconds the child is killed and `subprocess.TimeoutExpired` raised,
as subprocess.run does). The start-up itself (the console script, the imports) is tested where
it matters by real processes: the README tour's `make demo`, and every test that signals or
kills a command.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import io
import logging
import os
import pkgutil
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

_DEFAULT_WARNINGS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, None),
    ("ignore", PendingDeprecationWarning, None),
    ("ignore", ImportWarning, None),
    ("ignore", ResourceWarning, None),
)
"""Python's own warning filters (a plain `python` without -W), in the order it checks them."""


def run_ivr(
    args: list[str],
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """`python -m ivr *args` in a forked child (in `cwd`, with the environment `env` if given);
    its status and output as subprocess.run gives them with `capture_output=True` (and
    `text=True` unless `text` is false: bytes then)."""
    _import_everything()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            _child(args, cwd, env, out.fileno(), err.fileno())  # never returns
        status = _wait(pid, timeout, args)
        code = os.waitstatus_to_exitcode(status)
        read = _text if text else _bytes
        return subprocess.CompletedProcess(
            [sys.executable, "-m", "ivr", *args], code, read(out), read(err)
        )


WARM_UP = (("--help",), ("replay", "--help"), ("calls", "list", "--db", "/nonexistent/calls.db"))
"""Commands run here, once, output dropped, before the first child: they import what parsing
options, rendering help and printing errors need (pydantic, rich's pieces), so children do not.
Help and an error only: nothing is written."""


@functools.cache
def _import_everything() -> None:
    """Every module of ivr imported here once (the commands import theirs on first use), and
    what the command line imports as it runs (WARM_UP): every child inherits them."""
    import ivr

    for module in pkgutil.walk_packages(ivr.__path__, "ivr."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    argv = sys.argv
    try:
        for args in WARM_UP:
            sys.argv = ["ivr", *args]
            dropped = io.StringIO()
            with (
                contextlib.redirect_stdout(dropped),
                contextlib.redirect_stderr(dropped),
                contextlib.suppress(SystemExit),
            ):
                runpy.run_module("ivr", run_name="__main__")
    finally:
        sys.argv = argv


def _wait(pid: int, timeout: float, args: list[str]) -> int:
    """The child's wait status; killed (and TimeoutExpired raised) after `timeout` s."""
    ended: list[int] = []
    waiter = threading.Thread(target=lambda: ended.append(os.waitpid(pid, 0)[1]), daemon=True)
    waiter.start()
    waiter.join(timeout)
    if not ended:
        os.kill(pid, signal.SIGKILL)
        waiter.join()
        raise subprocess.TimeoutExpired([sys.executable, "-m", "ivr", *args], timeout)
    return ended[0]


def _bytes(file) -> bytes:
    """What the child wrote."""
    file.seek(0)
    return file.read()


def _text(file) -> str:
    """What the child wrote, decoded as `text=True` does (UTF-8, universal newlines)."""
    return io.TextIOWrapper(io.BytesIO(_bytes(file)), encoding="utf-8").read()


def _child(
    args: list[str], cwd: Path | None, env: dict[str, str] | None, out: int, err: int
) -> None:
    code = 1
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        _as_a_fresh_process(cwd, out, err)
        sys.argv = ["ivr", *args]
        try:
            runpy.run_module("ivr", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as done:
            code = _exit_code(done.code)
        threading._shutdown()  # as the interpreter ends: its threads first, then exit handlers
        atexit._run_exitfuncs()
    except BaseException:  # an uncaught error: reported as the interpreter would
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # the child is leaving either way
                stream.flush()
        os._exit(code)


def _as_a_fresh_process(cwd: Path | None, out: int, err: int) -> None:
    """The child's surroundings as a new `python -m ivr` would have them."""
    atexit._clear()  # the parent's exit handlers are the parent's
    if "multiprocessing.util" in sys.modules:  # its own, registered when it was imported
        import multiprocessing.process
        import multiprocessing.util

        multiprocessing.process._children.clear()  # the parent's, not this process's
        atexit.register(multiprocessing.util._exit_function)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if cwd is not None:
        os.chdir(cwd)
    null = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(source, target)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False, errors="backslashreplace")  # noqa: SIM115
    sys.__stdout__, sys.__stderr__, sys.__stdin__ = sys.stdout, sys.stderr, sys.stdin
    warnings.resetwarnings()
    for action, category, module in reversed(_DEFAULT_WARNINGS):
        warnings.filterwarnings(action, category=category, module=module or "")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    logging.disable(logging.NOTSET)


def _exit_code(code: object) -> int:
    """The status `sys.exit(code)` leaves a process with (a message goes to stderr, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1

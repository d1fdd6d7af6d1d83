"""The README's tour, run as a newcomer runs it: every command in the README's shell blocks
that needs no microphone and no network, in a fresh folder, each exiting 0 without a traceback.

A command with optional parts (`[--since 12h]`, `[--a | --b]`) runs once without them and once
with each part (each alternative of a part on its own). The files a user brings to a command
(`call.wav`, `my_script.yaml`, ...) are made first from the tour's own outputs (USER_FILES).
Commands run in the README's order, except that `make demo` comes first and every `ivr synth`
next: later blocks read the corpora they make. The ones that cannot run here are named in
NOT_RUN with the reason; a README command that is in neither the run nor NOT_RUN fails the
test, so a new command is run or excused on purpose.

`make` commands run in bash. An `ivr` command with no shell syntax but globs runs in a process
forked from the test's, as tests/helpers/shared.py `ivr` does (the same command line, without
the interpreter's start-up); `make demo` starts the console script itself.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import soundfile as sf
from shared import ivr

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

NOT_RUN = {
    "make test": "the test suite itself",
    "make bench": "a benchmark of several minutes (make bench), not a check",
    ".venv/bin/ivr call --script": "needs a microphone and a speaker",
    ".venv/bin/ivr dial": "needs a SIP callee on the network (tests/line/ dial real ones)",
    ".venv/bin/ivr serve": "listens for SIP calls from the network (tests/line/)",
    ".venv/bin/ivr campaign": "calls a SIP trunk on the network (tests/line/)",
    "kamailio -DD": "runs the SIP proxy as a server (tests/line/test_kamailio*.py)",
    ".venv/bin/ivr models fetch": "downloads a model from the network",
    ".venv/bin/ivr models check audio_models/vosk-model-small-cn-0.22": "needs models fetch",
    "--model audio_models/vosk-model-small-cn-0.22": "needs models fetch",
}
"""What the tour does not run (commands that start with or hold the key), with the reason."""


def readme_commands(text: str) -> list[str]:
    """Every command line of the README's shell blocks (```sh), continuations joined."""
    commands: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        joined = re.sub(r"\\\n\s*", "", block)
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def _strip_comment(command: str) -> str:
    return re.sub(r"\s+#\s.*$", "", command).strip()


def variants(command: str) -> list[str]:
    """The command without its optional `[...]` parts, then with each part (each alternative
    of an `a | b` part) on its own."""
    command = _strip_comment(command)
    parts = re.findall(r"\[([^\]]*)\]", command)
    base = re.sub(r"\s*\[[^\]]*\]", "", command).strip()
    runs = [base]
    for part in parts:
        runs += [f"{base} {alternative.strip()}" for alternative in part.split("|")]
    return runs


def _excused(command: str) -> str | None:
    for prefix, reason in NOT_RUN.items():
        if command.startswith(prefix) or (prefix.startswith("-") and prefix in command):
            return reason
    return None


def tour_order(commands: list[str]) -> list[str]:
    """`make demo` first, then every `ivr synth`, then the rest in the README's order."""

    def rank(command: str) -> int:
        if command.startswith("make demo"):
            return 0
        return 1 if command.startswith(".venv/bin/ivr synth") else 2

    return sorted(commands, key=rank)


def _user_files(folder: Path) -> None:
    """The files the README's commands take from the user, made from the tour's outputs."""
    calls = sorted((folder / "calls").glob("*.wav"))
    shutil.copy(calls[0], folder / "call.wav")
    quiet = [p for p in calls if "quiet" in p.name] or calls[-1:]
    shutil.copy(quiet[0], folder / "quiet.wav")
    audio, rate = sf.read(folder / "call.wav", dtype="float32")
    mono = audio if audio.ndim == 1 else audio[:, -1]
    eight_k = mono[:: rate // 8000] if rate % 8000 == 0 else mono
    sf.write(folder / "call.ulaw", eight_k, 8000, format="RAW", subtype="ULAW")
    shutil.copy(ROOT / "prompts" / "outbound.yaml", folder / "my_script.yaml")
    shutil.copy(ROOT / "prompts" / "forbidden.yaml", folder / "my_phrases.yaml")


def _tour_folder(tmp: Path) -> Path:
    """A fresh folder that holds what a clone holds (links), and none of its outputs."""
    for name in (".venv", "Makefile", "pyproject.toml", "tools", "prompts", "audio_models"):
        (tmp / name).symlink_to(ROOT / name)
    return tmp


IVR = ".venv/bin/ivr "
SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\"'{}~]")
"""What only a shell can run; a `.venv/bin/ivr` command without it (globs aside) is forked."""


def _run(command: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`command` as bash runs it in `folder`; an `ivr` command is run by shared.ivr (the same
    command line in a process forked from this one, without the interpreter's start-up:
    `make demo`, run first, starts the console script itself)."""
    if command.startswith(IVR) and not SHELL_SYNTAX.search(command):
        return ivr(*_expanded(command[len(IVR) :], folder), timeout=300, cwd=folder, env=env)
    if command.startswith("make "):
        # The set-up stamp lives in the linked .venv: never re-install from the tour folder.
        command = command.replace("make ", "make --no-print-directory -o .venv/.installed ", 1)
    return subprocess.run(
        ["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )


def _expanded(command: str, folder: Path) -> list[str]:
    """The words of `command` with globs expanded in `folder` as bash does (sorted; a glob
    that matches nothing stays as written)."""
    words = []
    for word in shlex.split(command):
        matches = sorted(glob.glob(word, root_dir=folder)) if set(word) & set("*?[") else []
        words += matches or [word]
    return words


def test_every_readme_command_is_run_or_excused():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) > 20
    for command in commands:
        assert command.startswith((".venv/bin/", "make ", "kamailio ")), command
    placeholders = [c for c in commands if re.search(r"(^|\s)\.\.\.(\s|$)", _strip_comment(c))]
    assert not placeholders, f"commands that cannot be run as written: {placeholders}"
    stale = [p for p in NOT_RUN if not any(_excused(c) == NOT_RUN[p] for c in commands)]
    assert not stale, f"NOT_RUN names commands the README no longer has: {stale}"


def test_readme_tour_runs_as_written(tmp_path: Path):
    folder = _tour_folder(tmp_path)
    env = dict(os.environ, IVR_CALL_DB=str(folder / "calls.db"), COLUMNS="100")
    commands = readme_commands(README.read_text(encoding="utf-8"))
    ran, failures = [], []
    for command in tour_order(commands):
        if _excused(command):
            continue
        if (
            not command.startswith(("make ", ".venv/bin/ivr synth"))
            and not (folder / "call.wav").exists()
        ):
            _user_files(folder)  # the corpora are made: now what a user brings
        for run in variants(command):
            done = _run(run, folder, env)
            ran.append(run)
            said = done.stdout + done.stderr
            if done.returncode != 0 or "Traceback" in said:
                failures.append(f"$ {run}\nexit {done.returncode}\n{said[-1500:]}")
    assert not failures, "\n\n".join(failures)
    assert any(r.startswith(".venv/bin/ivr tune") for r in ran)

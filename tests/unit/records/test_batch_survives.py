"""A replay batch survives any one failure, and a killed run leaves nothing behind.

Each test runs `ivr replay` on a short script (`--asr none`) over a few short calls: an
unreadable file, a call log that cannot be written, a full disk under --out (a real small
tmpfs: skipped where it cannot be mounted), a worker or the parent killed with SIGKILL, float
samples that are not numbers, a WAV cut short. Kill tests find the moment to kill by a marker
file a test hook writes when a worker reaches the call named `*hang*` (and then holds it), not
by sleeping. After a kill: the call log passes `PRAGMA integrity_check`, every finished call
has its row, no process of the run is left, and `--resume` completes the rest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from shared import human_speech, ivr
from typer.testing import CliRunner

from ivr.cli import app

SCRIPT = """\
script: batch
start: ask
max_call_s: 20
prompts:
  hello: 您好
  bye: 再见
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 5.0}
states:
  ask:
    say: hello
    listen: {}
    on:
      speech: [{do: [{goto: done}]}]
      noise: [{do: [{say: bye}, {hangup: noisy}]}]
      noinput:
        - {count: 1, do: [{say: bye}, {hangup: no_answer}]}
  done:
    say: [bye]
    do: [{hangup: answered}]
"""

HOOK = '''\
"""Test hook: a worker reaching a file named *hang* writes a marker naming its pid and waits
there for ever (until it is killed)."""
import os
import pathlib
import threading

_marks = os.environ.get("IVR_TEST_HANG_MARKS")
if _marks:
    from ivr.audio import source

    _blocks = source.FileSource.blocks

    def _hanging_blocks(self):
        if "hang" in self.path.name:
            pathlib.Path(_marks, str(os.getpid())).write_text(str(self.path))
            threading.Event().wait()
        yield from _blocks(self)

    source.FileSource.blocks = _hanging_blocks
'''

WAIT_S = 90.0
"""Longest wait (s) for anything a test waits on: a marker, rows, processes ending."""


def call_audio(seconds: float = 3.0) -> np.ndarray:
    """A short call: quiet, then the callee speaks 0.8 s in (int16, 16 kHz)."""
    audio = np.zeros(int(seconds * 16000), dtype=np.int16)
    speech = human_speech(0)[:24000]
    audio[12800 : 12800 + len(speech)] = speech
    return audio


def write_calls(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        sf.write(folder / name, call_audio(), 16000)
        paths.append(folder / name)
    return paths


@pytest.fixture
def batch(tmp_path: Path):
    """(script path, calls folder, out folder, db path) of a fresh batch."""
    script = tmp_path / "batch.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    return script, tmp_path / "calls", tmp_path / "out", tmp_path / "db" / "calls.db"


def replay_args(script: Path, db: Path, *args: str) -> list[str]:
    return ["replay", *args, "--script", str(script), "--asr", "none", "--db", str(db)]


def run(
    args: list[str], env: dict | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    return ivr(*args, timeout=timeout, env={**os.environ, **(env or {})})


def logged(db: Path) -> list[str]:
    """The file names of the calls in the log, in the order logged."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [row[0] for row in conn.execute("SELECT file FROM calls ORDER BY id")]


def logged_now(db: Path) -> list[str]:
    """As `logged`, while the run may still be creating the log (nothing yet: [])."""
    try:
        return logged(db) if db.exists() else []
    except sqlite3.Error:
        return []


def integrity(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def temp_files(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*.tmp")]


def wait_for(what: str, check: Callable[[], object], timeout: float = WAIT_S) -> object:
    """Poll `check` until it returns something true; AssertionError naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


def processes_of(token: str) -> list[int]:
    """Processes whose environment carries IVR_TEST_RUN=token: a run and all it started."""
    mark = f"IVR_TEST_RUN={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if mark in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def no_traceback(done: subprocess.CompletedProcess) -> None:
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "RuntimeWarning" not in text, text


# -- 4. unreadable files ------------------------------------------------------------------


WRITE_ONLY = ("/sys/bus/platform/uevent", "/sys/module/kernel/uevent", "/proc/sys/vm/drop_caches")
"""Files that even root cannot open for reading (write-only kernel attributes; the sysfs ones
have a size, as a recording would)."""


def make_unreadable(path: Path) -> None:
    """A file no one may read: mode 000, or (for root, who reads anything) a link to a kernel
    file that is write-only even for root. Opening it for reading is all that is tried."""
    sf.write(path, call_audio(), 16000)
    path.chmod(0)
    if os.geteuid() != 0:
        return
    for target in map(Path, WRITE_ONLY):
        try:
            target.open("rb").close()
        except PermissionError:
            path.unlink()
            path.symlink_to(target)
            return
        except OSError:
            continue
    pytest.skip("no file here that root cannot read")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unreadable_file_first_or_in_the_middle_fails_alone(batch, jobs):
    script, calls, out, db = batch
    write_calls(calls, ["b0.wav", "b1.wav", "m1.wav", "m2.wav"])
    first, middle = calls / "a_unreadable.wav", calls / "m0_unreadable.wav"
    make_unreadable(first)
    make_unreadable(middle)
    report = out.parent / "report"
    done = run(replay_args(script, db, str(calls), "-j", jobs, "--out", str(out), "--report",
                           str(report)))  # fmt: skip
    no_traceback(done)
    assert done.returncode == 1, done.stderr
    for bad in (first, middle):
        assert f"error: {bad}: cannot read: permission denied" in done.stdout
    assert sorted(logged(db)) == ["b0.wav", "b1.wav", "m1.wav", "m2.wav"]
    assert (report / "index.html").is_file()


# -- 5. a call log that opens but cannot be written ----------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path):
    """mount(name, size in KiB): a small tmpfs of its own under tmp_path (skip if it cannot
    be mounted here: that needs root)."""
    mounted: list[Path] = []

    def mount(name: str, size_kib: int) -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(point)],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def remount(point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(point)], check=True)


def a_log_with_calls(db: Path, count: int = 40) -> None:
    from ivr.records.calllog import CallLog, CallRecord

    with CallLog(db) as log:
        for i in range(count):
            log.add(CallRecord("2026-01-01T10:00:00+08:00", "outbound", "", "t", "no_answer",
                               1.0, "replay", f"old{i}.wav", transcript="嗯" * 100))  # fmt: skip
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def read_only(db: Path, request) -> Path:
    """A log file of mode 444 (and, for root, who writes anything, immutable: chattr +i)."""
    a_log_with_calls(db)
    db.chmod(0o444)
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(db)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot make a file read-only for root here: {done.stderr.strip()}")
        request.addfinalizer(lambda: subprocess.run(["chattr", "-i", str(db)], check=True))
    return db


def damaged(db: Path, request) -> Path:
    a_log_with_calls(db)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'calls'").fetchone()
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(db, "r+b") as f:
        f.seek((root[0] - 1) * page)
        f.write(b"\xff" * page)
    return db


def without_calls_table(db: Path, request) -> Path:
    a_log_with_calls(db)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("DROP TABLE calls")
        conn.commit()
    return db


def on_a_full_disk(db: Path, request) -> Path:
    folder = request.getfixturevalue("tmpfs")("full", 1024)
    a_log_with_calls(folder / "calls.db", 5)
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return folder / "calls.db"


LOCK_WAIT_MS = 300
"""The call log's busy timeout in the locked-log test (ms), instead of 10 s."""


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (read_only, "the file is read-only (attempt to write a readonly database)"),
        (damaged, "the file is damaged"),
        (without_calls_table, "not a whole ivr call log (no such table: calls)"),
        (on_a_full_disk, "no space left on"),
        ("locked", "another process has held it for over 0.3 s"),
    ],
)
def test_a_call_log_that_cannot_be_written_stops_the_batch_before_its_first_call(
    batch, request, monkeypatch, make, why
):
    script, calls, out, db = batch
    write_calls(calls, ["c0.wav", "c1.wav"])
    db.parent.mkdir(parents=True)
    holder = None
    if make == "locked":
        a_log_with_calls(db)
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        monkeypatch.setattr("ivr.records.calllog.BUSY_TIMEOUT_MS", LOCK_WAIT_MS)
    else:
        db = make(db, request)
    try:
        result = CliRunner().invoke(app, replay_args(script, db, str(calls), "--out", str(out)))
    finally:
        if holder is not None:
            holder.close()
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"{db}: cannot write the call log: " in errors[0], result.output
    assert why in errors[0]
    assert not out.exists() or not list(out.iterdir())  # no call was made


def test_a_call_log_failing_later_keeps_the_calls_files_and_names_it(batch, monkeypatch):
    from ivr.errors import IvrError
    from ivr.records.calllog import CallLog

    script, calls, out, db = batch
    write_calls(calls, ["c0.wav", "c1.wav", "c2.wav"])
    add = CallLog.add

    def refuse_c1(self, record):
        if record.file == "c1.wav":
            raise IvrError(f"{self.path}: cannot add the call: no space left (disk is full)")
        return add(self, record)

    monkeypatch.setattr(CallLog, "add", refuse_c1)
    result = CliRunner().invoke(app, replay_args(script, db, str(calls), "--out", str(out)))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1, result.output
    assert f"error: {calls / 'c1.wav'}: not logged: {db}: cannot add the call" in result.output
    assert f"error: 1 call(s) not logged in {db}: c1.wav" in result.output
    assert (out / "c1.call.wav").is_file() and (out / "c1.timeline.jsonl").is_file()
    assert logged(db) == ["c0.wav", "c2.wav"]


# -- 6. a full disk under --out ------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_under_out_stops_the_batch_in_one_line_and_resume_completes_it(
    batch, tmpfs, jobs
):
    script, calls, _, db = batch
    names = [f"c{i}.wav" for i in range(6)]
    write_calls(calls, names)
    out = tmpfs("out", 480)  # room for two calls' recordings and timelines
    args = replay_args(script, db, str(calls), "-j", jobs, "--out", str(out))
    done = run(args)
    no_traceback(done)
    assert done.returncode == 3, done.stdout + done.stderr
    errors = [line for line in done.stdout.splitlines() if line.startswith("error:")]
    assert errors and all(f"no space left on {out} while writing {out}/" in e for e in errors)
    assert "make room, then run the same command with --resume" in errors[-1]
    stems = [p.name.removesuffix(".call.wav") for p in out.glob("*.call.wav")]
    kept = sorted(f"{s}.wav" for s in stems if (out / f"{s}.timeline.jsonl").is_file())
    assert kept and sorted(logged(db)) == kept  # every call done is logged, and no other
    assert not temp_files(out)
    remount(out, "size=20m")
    again = run([*args, "--resume"])
    no_traceback(again)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"--resume: {len(kept)} of 6 files done before" in again.stdout
    assert sorted(logged(db)) == names
    assert integrity(db) == "ok"


# -- 7 and 8. kill -9 of a worker, of the parent ---------------------------------------------


@pytest.fixture
def hooked(tmp_path: Path):
    """(env for a run with the hang hook, the marker folder, the run's token)."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    marks = tmp_path / "marks"
    marks.mkdir()
    token = uuid.uuid4().hex
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH")) if p)
    env = {"PYTHONPATH": path, "IVR_TEST_HANG_MARKS": str(marks), "IVR_TEST_RUN": token}
    yield env, marks, token
    for pid in processes_of(token):  # left by a failed test: none when all is well
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def start(args: list[str], env: dict, logs: Path) -> subprocess.Popen:
    """The run in the background, its output to files in `logs` (not pipes: a process of the
    run left alive would hold a pipe open, and reading it would never end)."""
    with open(logs / "stdout", "w") as stdout, open(logs / "stderr", "w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "ivr", *args], stdout=stdout, stderr=stderr,
            env={**os.environ, **env},
        )  # fmt: skip


def finish(run_: subprocess.Popen, logs: Path) -> subprocess.CompletedProcess:
    """Wait for the run (killed if it outlives WAIT_S); its exit status and output."""
    try:
        run_.wait(timeout=WAIT_S)
    finally:
        run_.kill()
        run_.wait()
    out, err = (logs / "stdout").read_text(), (logs / "stderr").read_text()
    return subprocess.CompletedProcess(run_.args, run_.returncode, out, err)


def hung_worker(marks: Path) -> int:
    """The pid of the worker holding the *hang* call (waits for its marker)."""
    found = wait_for("a worker to reach the hanging call", lambda: list(marks.iterdir()))
    return int(found[0].name)


def after_kill(db: Path, token: str, out: Path) -> None:
    """What every kill test checks once the run is over."""
    wait_for("every process of the run to end", lambda: not processes_of(token), 30)
    assert integrity(db) == "ok"
    assert len(logged(db)) == len(set(logged(db)))  # no call logged twice


def test_a_killed_worker_fails_its_call_alone_and_the_batch_goes_on(batch, hooked):
    script, calls, out, db = batch
    env, marks, token = hooked
    names = ["c0.wav", "c1.wav", "c2_hang.wav", "c3.wav", "c4.wav", "c5.wav"]
    write_calls(calls, names)
    report = out.parent / "report"
    args = replay_args(script, db, str(calls), "-j", "2", "--out", str(out), "--report",
                       str(report))  # fmt: skip
    run_ = start(args, env, out.parent)
    try:
        pid = hung_worker(marks)
        os.kill(pid, signal.SIGKILL)
    finally:
        done = finish(run_, out.parent)
    no_traceback(done)
    assert done.returncode == 1, done.stdout + done.stderr
    hang = calls / "c2_hang.wav"
    assert (
        f"error: {hang}: its worker process (pid {pid}) died, killed by signal 9 (SIGKILL)"
        in done.stdout
    )
    assert sorted(logged(db)) == [n for n in names if n != "c2_hang.wav"]
    assert (report / "index.html").is_file()
    after_kill(db, token, out)
    assert not temp_files(out, report)  # the dead worker's half-written recording is gone
    again = run([*args, "--resume"], {"IVR_TEST_RUN": token})
    no_traceback(again)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "--resume: 5 of 6 files done before, 1 to replay" in again.stdout
    assert sorted(logged(db)) == names
    after_kill(db, token, out)


def test_a_killed_parent_takes_its_workers_and_has_logged_every_finished_call(batch, hooked):
    script, calls, out, db = batch
    env, marks, token = hooked
    names = ["a_hang.wav", "c0.wav", "c1.wav", "c2.wav", "c3.wav", "c4.wav"]
    write_calls(calls, names)
    args = replay_args(script, db, str(calls), "-j", "2", "--out", str(out))
    run_ = start(args, env, out.parent)
    others = sorted(names[1:])
    try:
        hung_worker(marks)
        # the hanging call is the first: the others end behind it and are logged as they end
        wait_for("the finished calls' rows", lambda: sorted(logged_now(db)) == others)
    finally:
        run_.kill()
        finish(run_, out.parent)
    after_kill(db, token, out)
    assert sorted(logged(db)) == others
    again = run([*args, "--resume"], {"IVR_TEST_RUN": token})
    no_traceback(again)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "--resume: 5 of 6 files done before, 1 to replay" in again.stdout
    assert "removed 1 temporary file(s) left by a killed run" in again.stdout
    assert sorted(logged(db)) == names
    assert not temp_files(out)
    after_kill(db, token, out)


# -- 12. samples that are not numbers, a WAV cut short --------------------------------------


def test_non_finite_samples_and_a_truncated_wav_are_named_in_one_line_each(batch):
    script, calls, out, db = batch
    calls.mkdir()
    sf.write(calls / "all_nan.wav", np.full(48000, np.nan, dtype=np.float32), 16000,
             subtype="FLOAT")  # fmt: skip
    some = call_audio().astype(np.float64) / 32768
    some[100:300] = np.inf
    some[400:500] = np.nan
    sf.write(calls / "some_inf.wav", some, 16000, subtype="DOUBLE")
    sf.write(calls / "full.wav", call_audio(6.0), 16000)
    data = (calls / "full.wav").read_bytes()
    (calls / "cut.wav").write_bytes(data[: 44 + 2 * 40000 + 1])  # 2.5 s of 6 s, mid-sample
    (calls / "full.wav").unlink()
    done = run(replay_args(script, db, str(calls), "--out", str(out)))
    no_traceback(done)
    assert done.returncode == 1, done.stdout + done.stderr  # the file with no number fails
    lines = done.stdout.splitlines()
    assert (
        f"error: {calls / 'all_nan.wav'}: no finite sample: all 48000 samples are NaN or infinite"
        in lines
    )
    assert (
        f"warning: {calls / 'some_inf.wav'}: 300 of 48000 samples are NaN or infinite: read as "
        "silence" in lines
    )
    assert (
        f"warning: {calls / 'cut.wav'}: truncated: 2.50 s of audio where its header says 6.00 s "
        "(40000 of 96000 samples)" in lines
    )
    assert sorted(logged(db)) == ["cut.wav", "some_inf.wav"]  # not the file of no number


@pytest.mark.parametrize("command", ["call", "dial", "serve"])
def test_a_line_call_checks_its_call_log_before_the_call(batch, request, command):
    # A live or SIP call is made once: a log that cannot take its row is said before it,
    # not found after the callee has been spoken to.
    script, _, out, db = batch
    db.parent.mkdir(parents=True)
    damaged(db, request)
    recording = out / "call.wav"
    args = [command, "--script", str(script), "--asr", "none", "--db", str(db)]
    if command == "dial":
        from baresip_callee import free_port

        args[1:1] = [f"sip:1001@127.0.0.1:{free_port()}"]
        args += ["--answer-timeout-s", "2"]
    if command == "serve":
        args += ["--listen", "127.0.0.1:0", "--out", str(out), "--max-calls", "1"]
    else:
        args += ["--record", str(recording)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"{db}: cannot write the call log: " in errors[0], result.output
    assert "the file is damaged" in errors[0]
    assert not recording.exists()

"""Running an `ivr replay` batch: the calls in this process or in worker processes, each kept
(judged, logged, a line said) as soon as it ends, and a batch that goes on past any one failure.

A file that cannot be read, a worker process that dies (its call fails, a new worker takes
its place), a call log that refuses a row (the call's files stay, the summary names it): each
is one line and the batch goes on. A full disk under the outputs stops the batch (every later
call would fail the same way): the calls under way end, what was done is logged, and the rest
is left for `--resume`. A run killed outright (SIGKILL) loses at most the calls whose result
was on its way to the log: every call is logged as soon as it ends, in the order calls end;
the table and the report list the calls in the files' order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.app.keeping import CallKeeper, EndedCall
from ivr.app.pool import BatchPool, Done
from ivr.app.replay import ReplayedFile, judge, remarks
from ivr.atomic import remove_stale
from ivr.errors import IvrError
from ivr.privacy import mask_number

if TYPE_CHECKING:
    from ivr.records.calllog import CallLog
    from ivr.script.model import Script

Work = tuple[str, str]
"""One file of a batch: (its path, the stem of its outputs)."""

Say = Callable[[str, str], None]
"""Says one line: (text, style: '' or a colour such as red, yellow)."""


def outputs_of(out: Path, stem: str) -> tuple[Path, Path]:
    """The recording and timeline a call with outputs named `stem` writes under `out`."""
    return out / f"{stem}.call.wav", out / f"{stem}.timeline.jsonl"


def finished(work: Sequence[Work], out: Path, log: CallLog | None) -> set[int]:
    """Which of `work` an earlier run finished (for --resume): its recording and timeline are
    in `out` (written whole or not at all) and, with a call log, its call is logged there."""
    logged = None if log is None else {Path(p).resolve() for p in log.recordings("replay")}
    done = set()
    for index, (_, stem) in enumerate(work):
        recording, timeline = outputs_of(out, stem)
        whole = recording.is_file() and timeline.is_file()
        if whole and (logged is None or recording.resolve() in logged):
            done.add(index)
    return done


def clean_folders(folders: Sequence[Path | None]) -> int:
    """Remove the temporary files killed processes left in `folders`; how many."""
    return sum(remove_stale(folder) for folder in folders if folder is not None)


@dataclass
class BatchKeeper:
    """Keeps each call of a batch as it ends, through the command's `calls` keeper: scored,
    judged against its expectation, logged, one line said (phone numbers masked unless the
    keeper shows them)."""

    calls: CallKeeper
    script: Script
    values: Mapping[str, str]
    expectations: dict[str, Any]
    recognizes: bool
    say: Say
    not_logged: list[tuple[str, str]] = field(default_factory=list)
    """(file, why) of each call the log refused; its recording and timeline stay."""

    @property
    def show_numbers(self) -> bool:
        """Whether phone numbers are shown unmasked."""
        return self.calls.options.show_numbers

    def shown(self, text: str) -> str:
        """`text` as said: phone numbers masked unless show_numbers."""
        return text if self.show_numbers else mask_number(text)

    def keep(self, o: ReplayedFile) -> ReplayedFile:
        """Judge, log and say one call (or its error); the file judged."""
        ended = None
        if o.result is not None:
            ended = EndedCall(o.result, self.script, self.values, o.started, "replay")
        qa = self.calls.score(ended) if ended is not None else None
        o = judge(o, qa, self.expectations, self.recognizes)
        if ended is None:
            self._line(f"error: {o.error}", "red")
            return o
        for note in o.notes:
            self._line(f"warning: {o.file}: {note}", "yellow")
        try:
            self.calls.add_to_log(replace(ended, remarks=remarks(o)), o.qa)
        except IvrError as exc:
            self.not_logged.append((o.file, str(exc)))
            self._line(f"error: {o.file}: not logged: {exc} (its recording and timeline "
                       "are kept)", "red")  # fmt: skip
        self.say(self.shown(o.result.summary()), "")
        return o

    def _line(self, text: str, style: str) -> None:
        self.say(self.shown(text), style)


@dataclass
class Batch:
    """What a batch did: each call's outcome in the files' order, and why it stopped early
    ('' when it did not) with how many files it left."""

    outcomes: list[ReplayedFile]
    stopped: str = ""
    not_run: int = 0


def run_batch(
    work: Sequence[Work],
    jobs: int,
    replay_here: Callable[[Work], ReplayedFile],
    pool: Callable[[], BatchPool],
    keeper: BatchKeeper,
    folders: Sequence[Path | None],
    advance: Callable[[], None],
) -> Batch:
    """Replay `work`: with `jobs` 1 here (`replay_here`), else in the worker processes of
    `pool()`; each call kept by `keeper` as it ends, then `advance()`. `folders`: where the
    outputs go, cleaned of a dead worker's temporary files."""
    kept: dict[int, ReplayedFile] = {}
    stopped = ""
    with _ends(work, jobs, replay_here, pool) as (ends, batch_pool):
        for done in ends:
            o = done.result if isinstance(done.result, ReplayedFile) else _failed(done)
            if not isinstance(done.result, ReplayedFile):
                clean_folders(folders)  # a dead worker's temporary files
            o = keeper.keep(o)
            kept[done.index] = o
            advance()
            if o.no_space and not stopped:
                stopped = o.error
                if batch_pool is not None:
                    batch_pool.stop()
                else:
                    break
    outcomes = [kept[i] for i in sorted(kept)]
    return Batch(outcomes, stopped, len(work) - len(kept))


class _ends:
    """The calls' ends: in this process one after the other, or from a pool as they come."""

    def __init__(self, work: Sequence[Work], jobs: int, here: Callable, pool: Callable) -> None:
        self.work, self.jobs, self.here, self.make_pool = work, jobs, here, pool
        self.pool: BatchPool | None = None

    def __enter__(self) -> tuple[Iterator[Done], BatchPool | None]:
        if self.jobs == 1 or len(self.work) < 2:
            here = (Done(i, w, self.here(w)) for i, w in enumerate(self.work))
            return here, None
        self.pool = self.make_pool()
        return self.pool.run(self.work), self.pool

    def __exit__(self, *exc_info: object) -> None:
        if self.pool is not None:
            self.pool.close()


def _failed(done: Done) -> ReplayedFile:
    """The outcome of a call whose worker died or whose work raised (one line, no traceback)."""
    path, _ = done.item
    error = f"{path}: {done.result}"
    return ReplayedFile(file=path, started=datetime.now().astimezone(), error=error)

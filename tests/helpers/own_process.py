"""Running one test in a forked process of its own (the `own_process` marker): its setup, call
and teardown happen in the child, whose reports come back through a pipe as pytest serializes
them for its workers; a child that dies (a signal, a native crash) fails the test with how it
ended, and the run goes on."""

from __future__ import annotations

import json
import os
import signal

import pytest
from _pytest.reports import TestReport
from _pytest.runner import runtestprotocol


def _child(item: pytest.Item, write: int) -> None:
    """In the child: run the test, send its reports, and leave without any exit handlers."""
    try:
        reports = runtestprotocol(item, log=False, nextitem=None)
        hook = item.config.hook
        data = [hook.pytest_report_to_serializable(config=item.config, report=r) for r in reports]
        payload = json.dumps(data).encode()
    except BaseException:  # whatever happened, the parent reports it
        payload = b""
    with os.fdopen(write, "wb") as out:
        out.write(payload)
    os._exit(0)


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"the test's own process was killed by {signal.Signals(number).name}"
    return f"the test's own process exited with status {os.WEXITSTATUS(status)} without reports"


def run_in_own_process(item: pytest.Item) -> None:
    """Run `item` in a forked child and log its reports here."""
    ihook, config = item.ihook, item.config
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(item, write)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        payload = inp.read()
    _, status = os.waitpid(pid, 0)
    if payload:
        reports = [
            config.hook.pytest_report_from_serializable(config=config, data=d)
            for d in json.loads(payload)
        ]
    else:
        keywords = dict.fromkeys(item.keywords, 1)
        why = _how_it_ended(status)
        reports = [TestReport(item.nodeid, item.location, keywords, "failed", why, "call")]
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)

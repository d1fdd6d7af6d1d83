"""The root conftest: deterministic hypothesis, fresh caches and call log, the `line` marker on
everything under tests/line/, and the fixtures many tests use. Helper modules are in
tests/helpers/ (on sys.path: `from shared import human_speech`), never imported from here."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import ivr  # noqa: F401  (first: it sets numpy's OpenBLAS threads, ivr.BLAS_THREADS)

# isort: split
import numpy as np
import pytest
import soundfile as sf
from hypothesis import settings

# The same examples on every run and machine: a test run is deterministic, and CI sees what a
# developer saw (hypothesis would otherwise draw new examples, and replay failures it stored).
settings.register_profile("ivr", derandomize=True, database=None)
settings.load_profile("ivr")

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS.parent / "tools"))  # tools/null_sink.py
sys.path.insert(0, str(TESTS / "helpers"))  # shared.py, realcall.py, baresip_callee.py, ...

from shared import HUMAN_WAVS, OUTBOUND_VALUES, TESTDATA, built_once  # noqa: E402


@pytest.fixture
def write_wav(tmp_path: Path):
    """Write int16 or float samples to a WAV (or other soundfile format) in tmp_path."""

    def write(name: str, data: np.ndarray, rate: int = 16000, **kwargs) -> Path:
        path = tmp_path / name
        sf.write(path, data, rate, **kwargs)
        return path

    return write


MADE: list[str] = []
"""The temporary folders this process made for the run (removed when it ends)."""


def pytest_configure(config):
    # Prompt audio rendered by tests goes to a fresh cache, never the user's own. The workers of
    # `pytest -n` share the one their controller made (they inherit its environment): a prompt
    # is rendered once per run, not once per worker (the cache writes each file atomically).
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        MADE.append(tempfile.mkdtemp(prefix="ivr-test-cache-"))
        os.environ["IVR_CACHE_DIR"] = MADE[-1]
    # Calls replayed by tests are logged in a fresh database, never in the user's calls/.
    MADE.append(tempfile.mkdtemp(prefix="ivr-test-db-"))
    os.environ["IVR_CALL_DB"] = os.path.join(MADE[-1], "calls.db")
    if not HUMAN_WAVS:
        raise pytest.UsageError(
            f"no recordings under {TESTDATA}: run `make test` (installs pocketsphinx-testdata)"
        )


def pytest_unconfigure(config):
    for folder in MADE:  # the controller's cache outlives its workers, which end first
        shutil.rmtree(folder, ignore_errors=True)


LINE = TESTS / "line"
"""Tests whose calls run in real time over a sound server or SIP on 127.0.0.1: everything under
tests/line/ is marked `line`, so `pytest -m "not line"` runs everything else as a quick loop."""


OWN_PROCESS = frozenset({"test_sip_call.py", "test_sip_keys.py", "test_kamailio.py",
                         "test_sip_guard.py"})  # fmt: skip
"""The line tests that run a SIP agent (a pjsua2 endpoint) in the test process: each runs in a
forked process of its own (marker `own_process`, tests/helpers/own_process.py), as `ivr dial`,
`ivr serve` and each worker hold one endpoint per process; endpoints made and destroyed one
after another in one process corrupted its heap now and then (a crash in a later test's
`codecEnum2`)."""


FIRST = ("test_readme_tour.py", "test_recognizer.py")
"""Files run first: the longest (the README's tour is one test of about a minute, the Korean
model's recognitions take 40 s). `make test` runs `pytest -n auto --dist loadfile
--no-loadscope-reorder`: each file in one worker, its module fixtures made once, the files
handed out in this order; a long file handed out last would keep one worker busy after the
others end."""


def pytest_ignore_collect(collection_path, config):
    """With `-m "not line"` (the quick loop) tests/line/ is not even imported: every test there
    is marked `line` and would be deselected (importing and rewriting its modules cost 3 s per
    worker)."""
    if " ".join((config.option.markexpr or "").split()) == "not line":
        return collection_path.is_relative_to(LINE) or None
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(LINE):
            item.add_marker(pytest.mark.line)
            if item.path.name in OWN_PROCESS:
                item.add_marker(pytest.mark.own_process)
    items.sort(key=lambda item: item.path.name not in FIRST)  # stable: the rest keep their order


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if item.get_closest_marker("own_process") is None:
        return None
    from own_process import run_in_own_process

    run_in_own_process(item)
    return True


@pytest.fixture(scope="session")
def outbound_calls(tmp_path_factory) -> Path:
    """The sample outbound calls (every path of the script, seed 3): their manifest's path."""
    from ivr.script import load_script
    from ivr.synth.corpus import write_corpus
    from ivr.synth.script_calls import script_call_specs
    from ivr.tts import PromptCache

    script = load_script("outbound", OUTBOUND_VALUES)
    audio = PromptCache().render_all(script.prompts)
    pairs = script_call_specs(script, lambda p: audio[p].frames, seed=3)
    extra = {spec.name: e for spec, e in pairs}
    specs = [s for s, _ in pairs]
    return built_once(  # once per run, shared by the workers: tests only read it
        tmp_path_factory,
        "outbound-calls-3",
        lambda folder: write_corpus(specs, folder, 3, expect_extra=extra),
    )

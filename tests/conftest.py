"""Shared test helpers: real WAV files written into a temporary folder, seeded signals."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import settings

# The same examples on every run and machine: a test run is deterministic, and CI sees what a
# developer saw (hypothesis would otherwise draw new examples, and replay failures it stored).
settings.register_profile("ivr", derandomize=True, database=None)
settings.load_profile("ivr")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/null_sink.py

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
"""Real human recordings shipped by Debian's pocketsphinx-testdata (16 kHz mono)."""

HUMAN_WAVS = sorted(TESTDATA.glob("*/*.wav"))


def tone(freq_hz: float, seconds: float, dbfs: float, rate: int = 16000) -> np.ndarray:
    """A sine whose RMS is `dbfs` (0 dBFS = RMS of a full-scale square wave), int16."""
    t = np.arange(int(seconds * rate)) / rate
    amplitude = 10 ** (dbfs / 20) * np.sqrt(2) * 32768
    return np.rint(amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.int16)


def human_speech(index: int = 0) -> np.ndarray:
    """One real human recording as int16 at 16 kHz."""
    data, rate = sf.read(HUMAN_WAVS[index], dtype="int16")
    assert rate == 16000
    return data


@pytest.fixture
def write_wav(tmp_path: Path):
    """Write int16 or float samples to a WAV (or other soundfile format) in tmp_path."""

    def write(name: str, data: np.ndarray, rate: int = 16000, **kwargs) -> Path:
        path = tmp_path / name
        sf.write(path, data, rate, **kwargs)
        return path

    return write


def pytest_configure(config):
    # Prompt audio rendered by tests goes to a fresh cache, never the user's own.
    os.environ["IVR_CACHE_DIR"] = tempfile.mkdtemp(prefix="ivr-test-cache-")
    # Calls replayed by tests are logged in a fresh database, never in the user's calls/.
    os.environ["IVR_CALL_DB"] = os.path.join(tempfile.mkdtemp(prefix="ivr-test-db-"), "calls.db")
    if not HUMAN_WAVS:
        raise pytest.UsageError(
            f"no recordings under {TESTDATA}: run `make test` (installs pocketsphinx-testdata)"
        )


LINE_TEST_FILES = frozenset({
    "test_kamailio.py", "test_live_call.py", "test_live_ports.py", "test_one_keeper.py",
    "test_sip_call.py", "test_sip_campaign.py", "test_sip_guard.py", "test_sip_keys.py",
    "test_sip_serve.py",
})  # fmt: skip
"""Test files whose calls run in real time over a sound server or SIP on 127.0.0.1: marked
`line`, so `pytest -m "not line"` runs everything else as a quick loop."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in LINE_TEST_FILES:
            item.add_marker(pytest.mark.line)


OUTBOUND_VALUES = {"agent_id": "1001", "number": "13812345678"}
"""Placeholder values of the sample outbound calls (the number is the callee's)."""


@pytest.fixture(scope="session")
def outbound_calls(tmp_path_factory) -> Path:
    """The sample outbound calls (every path of the script, seed 3): their manifest's path."""
    from ivr.script import load_script
    from ivr.synth.corpus import write_corpus
    from ivr.synth.script_calls import script_call_specs
    from ivr.tts import PromptCache

    folder = tmp_path_factory.mktemp("outbound-calls")
    script = load_script("outbound", OUTBOUND_VALUES)
    audio = PromptCache().render_all(script.prompts)
    pairs = script_call_specs(script, lambda p: audio[p].frames, seed=3)
    extra = {spec.name: e for spec, e in pairs}
    return write_corpus([s for s, _ in pairs], folder, 3, expect_extra=extra)

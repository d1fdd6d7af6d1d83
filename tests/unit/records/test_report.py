"""The HTML report of a replayed batch, loaded in headless Chromium; the timeline pictures."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from shared import OUTBOUND_VALUES, ROOT, ivr

from ivr.audio.source import FileSource
from ivr.detect.frontend import Detectors
from ivr.report.picture import callee_tracks, prompt_spans, timer_windows
from ivr.timeline import TimelineRecord, read_timeline

REPO = ROOT
SCREENSHOTS = Path(os.environ.get("IVR_SCREENSHOTS", REPO / "out" / "screenshots"))
"""Where the test run leaves its screenshots of the report (look at them)."""

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000", "--hide-scrollbars",
)  # fmt: skip


@pytest.fixture(scope="module")
def report(outbound_calls: Path, tmp_path_factory) -> Path:
    """The sample calls and one unreadable file replayed with --report: the report folder."""
    folder = tmp_path_factory.mktemp("report-calls")
    shutil.copytree(outbound_calls.parent, folder, dirs_exist_ok=True)
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    target = folder / "report"
    done = ivr(
        "replay", str(folder), "--script", "outbound",
        "--agent-id", OUTBOUND_VALUES["agent_id"], "--number", OUTBOUND_VALUES["number"],
        "--asr", "reference", "--expect", str(folder / "manifest.yaml"),
        "--report", str(target), "--db", str(folder / "calls.db"), "-j", "2",
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the broken file fails, alone
    assert "broken.wav" in done.stdout and "report " in done.stdout
    return target


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's headless Chromium, driven through chromedriver, with the console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        assert path.exists(), f"{path} is missing: run `make test` (installs chromium)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def served(report: Path) -> Iterator[str]:
    """The report folder on a web server on localhost: its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(report))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join()


LOAD_EVERYTHING = """
const done = arguments[arguments.length - 1];
const image = (src) => new Promise((resolve) => {
  const probe = new Image();
  probe.onload = () => resolve([src, probe.naturalWidth]);
  probe.onerror = () => resolve([src, 0]);
  probe.src = src;
});
const audio = (a) => new Promise((resolve) => {
  const report = () => resolve([a.getAttribute('src'), a.error ? -1 : a.readyState, a.duration]);
  if (a.error || a.readyState >= 1) { report(); return; }
  a.addEventListener('loadedmetadata', report, {once: true});
  a.addEventListener('error', report, {once: true});
});
Promise.all([
  Promise.all([...document.images].map((i) => image(i.src))),
  Promise.all([...document.querySelectorAll('audio')].map(audio)),
]).then(([images, audios]) => done({images, audios}));
"""


def load(browser, url: str) -> tuple[dict, list[dict]]:
    """Open `url`, wait for every image and audio source: what loaded, and the console log."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    loaded = browser.execute_async_script(LOAD_EVERYTHING)
    return loaded, browser.get_log("browser")


def test_the_report_loads_cleanly_with_a_row_per_call(browser, served, report, outbound_calls):
    manifest = yaml.safe_load(outbound_calls.read_text(encoding="utf-8"))
    durations = {}
    for path in report.glob("calls/*.timeline.jsonl"):
        stem = path.name.removesuffix(".timeline.jsonl")
        durations[stem] = call_timeline(report, stem)[-1].t  # the hang-up
    calls = len(manifest["calls"])
    loaded, console = load(browser, served + "index.html")
    assert console == [], console  # no errors, no warnings, nothing logged
    rows = browser.execute_script("return document.querySelectorAll('#calls tbody tr').length")
    assert rows == calls + 1  # the broken file has its row too
    errors = browser.execute_script(
        "return [...document.querySelectorAll('#calls tbody tr')]"
        ".filter((r) => r.textContent.includes('error')).map((r) => r.textContent)"
    )
    assert len(errors) == 1 and "broken.wav" in errors[0]
    assert len(loaded["images"]) == calls
    assert all(width == 1400 for _, width in loaded["images"]), loaded["images"]
    assert len(loaded["audios"]) == calls
    for src, state, duration in loaded["audios"]:
        assert state >= 1, src  # the recording resolved and its header was read
        stem = Path(src).name.removesuffix(".call.wav")
        assert duration == pytest.approx(durations[stem], abs=0.021), src
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    assert resources and all(r.startswith(served) for r in resources), resources
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "report-summary.png"))
    browser.execute_script("document.getElementById('call-1').scrollIntoView()")
    browser.save_screenshot(str(SCREENSHOTS / "report-call.png"))
    print(f"screenshots of the report in {SCREENSHOTS}")


def test_the_report_is_offline_and_opens_from_disk(browser, report):
    page = (report / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from elsewhere
    assert "<script" not in page and "@import" not in page and "url(" not in page
    loaded, console = load(browser, (report / "index.html").as_uri())
    assert console == [], console
    assert loaded["images"] and all(width == 1400 for _, width in loaded["images"])
    assert all(state >= 1 for _, state, _ in loaded["audios"])


def test_the_summary_counts_outcomes_verdicts_and_qa(browser, served, outbound_calls):
    manifest = yaml.safe_load(outbound_calls.read_text(encoding="utf-8"))
    browser.get(served + "index.html")
    cards = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('.card')]"
        ".map((c) => [c.childNodes[1].textContent, c.querySelector('b').textContent]))"
    )
    calls = len(manifest["calls"])
    assert cards["calls"] == str(calls + 1)
    assert cards["expectation met"] == str(calls) and cards["expectation failed"] == "0"
    assert cards["not judged"] == "0" and cards["errors"] == "1"
    assert 0 < int(cards["QA passed"]) + int(cards["QA failed"]) <= calls
    outcomes = browser.execute_script(
        "return [...document.querySelectorAll('h2 + table')][0].innerText"
    )
    for outcome in {c["expect"]["outcome"] for c in manifest["calls"]}:
        assert outcome in outcomes


def call_timeline(report: Path, name: str) -> list[TimelineRecord]:
    return read_timeline(report / "calls" / f"{name}.timeline.jsonl")


def test_picture_spans_are_the_timeline_to_the_frame(report):
    [name] = [p.name for p in (report / "calls").glob("*never_answers_clean.timeline.jsonl")]
    timeline = call_timeline(report, name.removesuffix(".timeline.jsonl"))
    started = [r.t for r in timeline if r.event == "prompt_started"]
    finished = [r.t for r in timeline if r.event == "prompt_finished"]
    spans = prompt_spans(timeline, end_s=timeline[-1].t)
    assert [(s.start_s, s.end_s) for s in spans] == list(zip(started, finished, strict=True))
    windows = timer_windows(timeline)
    assert [(w.start_s, fired) for w, fired in windows] == [(t, True) for t in finished[:3]]
    assert all(w.end_s - w.start_s == pytest.approx(3.0, abs=1e-9) for w, _ in windows)
    assert [w.label for w, _ in windows] == ["3.0 s"] * 3  # seed 000: about 3 s


def test_picture_detector_values_are_those_the_call_saw(report, outbound_calls):
    """The picture recomputes the detectors from the recording's callee side: frame for frame
    the values the replay computed from the original file (8 kHz mu-law included)."""
    for pattern in ("*too_quiet_clean.call.wav", "*noisy_line_telephone.call.wav"):
        [recording] = (report / "calls").glob(pattern)
        original = outbound_calls.parent / recording.name.replace(".call.wav", ".wav")
        tracks = callee_tracks(sf.read(recording, dtype="int16")[0][:, 1])
        detectors, levels, floors, voiced = Detectors(), [], [], []
        for block in FileSource(original).blocks():
            result = detectors.process(block)
            levels.append(result.level_dbfs)
            floors.append(result.floor_dbfs)
            voiced.append(result.voiced)
        level, floor, vad = (np.concatenate(x) for x in (levels, floors, voiced))
        n = min(level.size, tracks.frames)
        assert n > 1000
        np.testing.assert_array_equal(tracks.level_dbfs[:n], level[:n])
        np.testing.assert_array_equal(tracks.floor_dbfs[:n], floor[:n])
        np.testing.assert_array_equal(tracks.voiced[:n], vad[:n])
        assert sf.info(recording).channels == 2


def test_every_call_has_its_picture(report):
    pictures = sorted(p.stem for p in (report / "pictures").glob("*.png"))
    recordings = sorted(p.name.removesuffix(".call.wav") for p in report.glob("calls/*.call.wav"))
    assert pictures == recordings and pictures
    for picture in (report / "pictures").glob("*.png"):
        with picture.open("rb") as f:
            header = f.read(24)
        width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
        assert (width, height) == (1400, 720), picture


def test_the_page_escapes_masks_and_shows_every_verdict(tmp_path):
    from ivr.report.html import ReportCall, write_report

    items = {"greeting": True, "closing": False, "answered_in_time": None}
    qa = {"score": 50.0, "items": {**items, "reprompts_within_limit": True}, "reprompts": 2}
    calls = [
        ReportCall("<b>13812345678</b>.wav", "answered", "answered", True, qa=qa),
        ReportCall("late.wav", "no_answer", "answered", False, ("outcome no_answer",), qa=qa),
        ReportCall("deaf.wav", "answered", "nomatch", None, note="not judged: needs recognition"),
        ReportCall("bad.wav", error="bad.wav: truncated or corrupt WAV header"),
    ]
    page = write_report(tmp_path, calls, show_numbers=False).read_text(encoding="utf-8")
    assert "13812345678" not in page and "<b>138" not in page
    assert "&lt;b&gt;138****5678&lt;/b&gt;.wav" in page
    rows = re.findall(r'<tr class="call">(.*?)</tr>', page, re.S)
    assert len(rows) == 4
    assert ">pass<" in rows[0] and ">FAIL<" in rows[1] and "not judged" in rows[2]
    assert "error" in rows[3] and "truncated" in rows[3]
    assert "<li>outcome no_answer</li>" in page
    assert '<span class="fail">FAIL</span> closing before the hang-up' in page
    assert '<span class="na">n/a</span> the callee&#x27;s speech answered in time <code>' in page
    assert (
        '<span class="pass">pass</span> re-prompts after silence within the standard&#x27;s '
        "number (2) <code>reprompts_within_limit</code>"
    ) in page
    assert "<audio" not in page and "<img" not in page  # no recording, no picture: no links
    shown = write_report(tmp_path, calls, show_numbers=True).read_text(encoding="utf-8")
    assert "&lt;b&gt;13812345678&lt;/b&gt;.wav" in shown

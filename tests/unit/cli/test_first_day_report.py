"""The report is honest: the callee's waveform is drawn on a fixed dBFS scale
(a silent line looks silent beside a noisy one), the page says how speech was recognized, and
the choppy call's callee speaks Mandarin, each fragment of an utterance carrying its own
words."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from ivr.app.recognition import Recognition
from ivr.cli import app

VALUES = ["--agent-id", "1001", "--number", "13812345678"]


def calls_named(manifest: Path, *parts: str) -> list[Path]:
    data = yaml.safe_load(manifest.read_text("utf-8"))
    return [manifest.parent / c["file"] for p in parts for c in data["calls"] if p in c["file"]]


def replay_report(files: list[Path], out: Path, *extra: str) -> Path:
    """Replay `files` with a report; the report's folder."""
    args = ["replay", *map(str, files), "--script", "outbound", *VALUES, "--no-db"]
    args += ["--out", str(out / "calls"), "--report", str(out / "report"), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out / "report"


def green_pixels(picture: Path) -> int:
    """Pixels of the callee's waveform colour (dark green) in a timeline picture."""
    rgb = np.asarray(Image.open(picture).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((g > r + 40) & (g > b + 40) & (g < 200)).sum())


@pytest.fixture(scope="module")
def two_lines(outbound_calls: Path, tmp_path_factory) -> Path:
    """The report of a silent line (peak about -56 dBFS) and a noisy one (-22 dBFS noise)."""
    files = calls_named(outbound_calls, "never_answers_clean", "noisy_line_clean")
    return replay_report(files, tmp_path_factory.mktemp("lines"), "--asr", "none")


def test_a_silent_line_looks_silent_beside_a_noisy_one(two_lines) -> None:
    [silent] = two_lines.glob("pictures/*never_answers_clean.png")
    [noisy] = two_lines.glob("pictures/*noisy_line_clean.png")
    quiet, loud = green_pixels(silent), green_pixels(noisy)
    assert loud > 50_000 and loud > 50 * quiet, (quiet, loud)


def test_the_report_says_recognition_was_off(two_lines) -> None:
    page = html.unescape((two_lines / "index.html").read_text("utf-8"))
    assert "recognition: off (--asr none): speech counts as an answer" in page
    no_model = Recognition(notice="no Mandarin speech model found: calls run detector-only")
    assert no_model.summary.startswith("recognition: off (no speech model)")


def test_the_choppy_callee_speaks_mandarin_each_fragment_its_own_words(
    outbound_calls: Path, tmp_path
) -> None:
    data = yaml.safe_load(outbound_calls.read_text("utf-8"))
    [choppy] = [c for c in data["calls"] if c["situation"] == "cut_in_out"]
    texts = [s["text"] for s in choppy["speech"]]
    assert len(texts) > 6  # six utterances, some broken into fragments by the dropouts
    assert all(re.fullmatch(r"[\u4e00-\u9fff，。？！、]+", t) for t in texts), texts
    assert len(set(texts)) == len(texts)  # no fragment repeats another's words
    report = replay_report(
        [outbound_calls.parent / choppy["file"]], tmp_path,
        "--asr", "reference", "--expect", str(outbound_calls),
    )  # fmt: skip
    page = html.unescape((report / "index.html").read_text("utf-8"))
    assert "recognition: reference transcripts" in page
    [heard] = re.findall(r"<p>heard: (.*?)</p>", page)
    assert not re.search(r"[A-Za-z]{3}", heard)  # not the English sentence
    for sentence in {t for t in texts if t.endswith(("。", "？"))}:
        assert heard.count(sentence) <= 1, heard

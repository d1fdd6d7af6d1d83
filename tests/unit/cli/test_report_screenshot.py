"""The report as a browser shows it: headless Chromium screenshots the
report of a silent line and that of a noisy line, and the callee's waveform, drawn on a fixed
dBFS scale, is barely there on the first and fills its band on the second.

Each report holds one call, so the whole page (summary, the call's QA list, its picture) fits
one screenshot; the pages differ in the callee's waveform (dark green), while their texts in
the same green (the QA items' `pass`) are alike."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from ivr.cli import app

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (1500, 1900)
"""Screenshot size (pixels): a one-call report's page whole."""
VALUES = ["--agent-id", "1001", "--number", "13812345678"]


def report_of(call: Path, out: Path) -> Path:
    """The report page of one replayed call."""
    args = ["replay", str(call), "--script", "outbound", *VALUES, "--asr", "none", "--no-db"]
    args += ["--out", str(out / "calls"), "--report", str(out / "report")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out / "report" / "index.html"


def screenshot(page: Path, out: Path) -> np.ndarray:
    """The page as headless Chromium renders it (RGB)."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make setup` (installs chromium)"
    shot = out / "page.png"
    args = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={out / 'profile'}", f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.is_file(), done.stderr
    return np.asarray(Image.open(shot).convert("RGB")).astype(int)


def waveform_pixels(rgb: np.ndarray) -> int:
    """Pixels of the callee's waveform colour (dark green)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((g > r + 40) & (g > b + 40) & (g < 200)).sum())


@pytest.fixture(scope="module")
def shots(outbound_calls: Path, tmp_path_factory) -> dict[str, np.ndarray]:
    """Screenshots of the reports of the silent line and the noisy line."""
    data = yaml.safe_load(outbound_calls.read_text("utf-8"))
    out = {}
    for kind in ("never_answers_clean", "noisy_line_clean"):
        [name] = [c["file"] for c in data["calls"] if kind in c["file"]]
        folder = tmp_path_factory.mktemp(kind)
        out[kind] = screenshot(report_of(outbound_calls.parent / name, folder), folder)
    return out


def test_silent_and_noisy_callee_panels_differ_visibly(shots) -> None:
    silent = waveform_pixels(shots["never_answers_clean"])
    noisy = waveform_pixels(shots["noisy_line_clean"])
    assert noisy > 50_000, noisy  # the noise fills the callee's band
    assert noisy > 20 * silent, (silent, noisy)


def test_the_picture_is_shown_whole(shots) -> None:
    """The page's picture was loaded and drawn: the blue of our prompts is on both."""
    for rgb in shots.values():
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        assert int(((b > r + 60) & (b > g + 20) & (b < 220)).sum()) > 20_000

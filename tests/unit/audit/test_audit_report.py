"""`ivr audit --report DIR`: one page that opens offline, a row per recording with a cell per
item, and per recording a picture with a red line at each failed moment."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from audit_calls import write_clean, write_late
from PIL import Image
from typer.testing import CliRunner

from ivr.cli import app

DEAD_AIR = ("--set", "dead_air_s=4")  # the clean call's longest answer is 3.3 s


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def calls(tmp_path):
    """A clean call; a late answer (8 kHz mu-law) whose name is markup; the same late call
    under the same name in another folder."""
    other = tmp_path / "other"
    other.mkdir()
    return (
        write_clean(tmp_path),
        write_late(tmp_path, "<b>late&.wav"),
        write_late(other, "<b>late&.wav"),
    )


def red_columns(picture: Path) -> np.ndarray:
    """The picture's pixel columns holding the failed moments' red."""
    r, g, b = np.moveaxis(np.asarray(Image.open(picture).convert("RGB")).astype(int), 2, 0)
    red = (r > 150) & (g < 120) & (b < 120)  # the line's red, antialiased against white
    return np.flatnonzero(red.sum(axis=0) >= 100)  # a line through both panels


def test_the_report_shows_every_recording_its_items_and_its_failed_moments(tmp_path, calls):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt ")
    report = tmp_path / "report"
    files = [str(calls[0]), str(calls[1]), str(broken), str(calls[2])]
    done = invoke("audit", *files, *DEAD_AIR, "-j", "2", "--no-db", "--report", str(report))
    assert done.exit_code == 1, done.output  # the broken file
    assert f"report {report / 'index.html'}" in done.stdout
    cards = json.loads(invoke("audit", *files[:2], *DEAD_AIR, "--no-db", "--json").stdout)
    page = (report / "index.html").read_text(encoding="utf-8")
    assert "<b>late" not in page and html.escape("<b>late&.wav") in page  # a name is text
    rows = re.findall(r'<tr class="call">(.*?)</tr>', page, re.S)
    assert len(rows) == 4 and "broken.wav" in rows[2] and "error" in rows[2]
    late = next(i for i in cards[1]["items"] if i["item"] == "late_answer")
    assert late["verdict"] == "fail"
    failed_cell = f"FAIL</span> {late['moments_s'][0]:.1f} s"
    assert failed_cell in rows[1] and failed_cell in rows[3]
    assert "FAIL" not in rows[0]

    pictures = [report / unquote(src) for src in re.findall(r'<img src="([^"]+)"', page)]
    assert len(pictures) == 3 and len(set(pictures)) == 3  # one per readable call
    assert all(
        p.parent == report / "pictures" and p.read_bytes()[:4] == b"\x89PNG" for p in pictures
    )
    assert red_columns(pictures[0]).size == 0  # nothing failed: no red line
    columns = red_columns(pictures[1])
    width = Image.open(pictures[1]).width
    end_s = cards[1]["duration_s"] * 1.01  # the time axis's end
    expected = (0.06 + 0.93 * late["moments_s"][0] / end_s) * width  # its panels' margins
    assert columns.size and abs(columns.mean() - expected) <= 3
    audio = re.findall(r'<audio controls preload="metadata" src="([^"]+)"', page)
    assert [Path(unquote(a)).name for a in audio] == ["clean.wav", "<b>late&.wav", "<b>late&.wav"]


def test_a_report_folder_that_cannot_be_made_is_one_line(tmp_path, calls):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = invoke("audit", str(calls[0]), "--no-db", "--report", str(blocker / "report"))
    assert done.exit_code in (1, 2)
    assert (
        done.stderr.count("\n") == 1 and "report" in done.stderr and "Traceback" not in done.output
    )

"""`ivr tune` on the README's example: calls that need recognition are not
counted wrong in silence, and the recommendation never buys a few ms with more mistakes.

A small corpus of the sample outbound calls: an answered call, a too-quiet callee (whose
premature re-prompts depend on end_of_speech), and the deny and nomatch calls, whose outcome
depends on what the callee said."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ivr.cli import app

KEPT = ("answers_at_once_clean", "too_quiet_clean", "deny", "nomatch")
VALUES = ["--agent-id", "1001", "--number", "13812345678"]


@pytest.fixture(scope="module")
def small_corpus(outbound_calls: Path, tmp_path_factory) -> Path:
    """Four of the sample outbound calls and their manifest entries."""
    folder = tmp_path_factory.mktemp("tune-corpus")
    data = yaml.safe_load(outbound_calls.read_text(encoding="utf-8"))
    kept = [c for c in data["calls"] if Path(c["file"]).stem.endswith(KEPT)]
    assert len(kept) == len(KEPT)
    for call in kept:
        shutil.copy(outbound_calls.parent / call["file"], folder / call["file"])
    data["calls"] = kept
    (folder / "manifest.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return folder


def tune(corpus: Path, tmp_path: Path, *extra: str) -> str:
    args = ["tune", str(corpus), "--script", "outbound", *VALUES]
    args += ["--grid", "end_of_speech=0.3,0.4", "--out", str(tmp_path / "out")]
    args += ["--cache-dir", str(tmp_path / "cache"), *extra]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_calls_needing_recognition_are_not_scored_and_named(small_corpus, tmp_path) -> None:
    out = tune(small_corpus, tmp_path)
    assert (
        "2 calls need recognition and are not scored: deny, nomatch "
        "(use --asr reference to score them)"
    ) in out
    assert "2 calls x 2 combinations" in out
    assert "accuracy 100.0%" in out and "over 2 calls" in out


def test_asr_reference_scores_them(small_corpus, tmp_path) -> None:
    out = tune(small_corpus, tmp_path, "--asr", "reference")
    assert "not scored" not in out
    assert "4 calls x 2 combinations" in out
    assert "accuracy 100.0%" in out and "over 4 calls" in out


def test_fewer_mistakes_win_over_a_few_ms_and_the_trade_is_said(small_corpus, tmp_path) -> None:
    """0.3 s answers 0.04 s sooner but re-prompts the quiet callee too early: 0.4 wins."""
    out = tune(small_corpus, tmp_path)
    assert "recommended: end_of_speech=0.4" in out
    line = next(line for line in out.splitlines() if line.startswith("not chosen:"))
    assert "end_of_speech=0.3 is" in line and "s faster but has premature re-prompts 50.0%" in line
    assert "(recommended 0.0%)" in line
    overlay = yaml.safe_load((tmp_path / "out" / "recommended.yaml").read_text("utf-8"))
    assert overlay == {"script": {"end_of_speech": 0.4}}


def test_unknown_asr_mode_is_one_line(small_corpus, tmp_path) -> None:
    args = ["tune", str(small_corpus), *VALUES, "--grid", "noinput=3", "--asr", "vosk"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: --asr:")

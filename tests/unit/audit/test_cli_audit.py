"""`ivr audit` as a QA person runs it: a line per call, a table per batch, the settings, JSON,
a pair of mono files, and a broken file that fails alone."""

from __future__ import annotations

import json

import soundfile as sf
from audit_calls import say, stereo, write_clean, write_late
from shared import ivr


def calls(tmp_path):
    return write_clean(tmp_path), write_late(tmp_path)


def test_a_batch_with_a_broken_file(tmp_path):
    clean, late = calls(tmp_path)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt ")
    result = ivr("audit", str(clean), str(broken), str(late), "--set", "dead_air_s=4")
    assert result.returncode == 1
    assert result.stderr.count("error:") == 1 and "broken.wav" in result.stderr
    lines = result.stdout.splitlines()
    assert "clean.wav: pass" in lines[0]
    assert lines[1].startswith("late.wav: FAIL 1 (answering late at 1.3 s)")
    assert "Audit" in result.stdout and "Settings" in result.stdout
    assert "4 (default 3)" in result.stdout  # the settings scored by


def test_json_scorecards_with_items_seeds_and_settings(tmp_path):
    _, late = calls(tmp_path)
    result = ivr("audit", str(late), "--json", "--script", "outbound")
    assert result.returncode == 0, result.stderr
    [card] = json.loads(result.stdout)
    items = {i["item"]: i for i in card["items"]}
    assert items["late_answer"]["verdict"] == "fail"
    assert abs(items["late_answer"]["moments_s"][0] - 1.3) <= 0.1
    assert items["late_answer"]["seed"].startswith("003 二.5")
    assert items["forbidden"]["verdict"] == "n/a"
    assert card["settings"]["answer_within_s"] == 2.0


def test_a_pair_of_mono_files_and_the_agent_on_the_right(tmp_path):
    said = [say("customer", 0.5, 0), say("agent", 4.0, 9)]
    audio = stereo(said, 9.0)
    sf.write(tmp_path / "agent.wav", audio[:, 0], 16000)
    sf.write(tmp_path / "customer.wav", audio[:, 1], 16000)
    sf.write(tmp_path / "swapped.wav", audio[:, ::-1], 16000)
    pair = f"{tmp_path}/agent.wav+{tmp_path}/customer.wav"
    result = ivr("audit", pair, "--json")
    right = ivr("audit", str(tmp_path / "swapped.wav"), "--agent", "right", "--json")
    for run in (result, right):
        assert run.returncode == 0, run.stderr
        [card] = json.loads(run.stdout)
        late = next(i for i in card["items"] if i["item"] == "late_answer")
        assert late["verdict"] == "fail"
    assert json.loads(result.stdout)[0]["file"] == "agent.wav+customer.wav"


def test_a_mono_file_alone_is_refused_by_name(tmp_path):
    sf.write(tmp_path / "mono.wav", stereo([say("agent", 0.5, 0)], 3.0)[:, 0], 16000)
    result = ivr("audit", str(tmp_path / "mono.wav"))
    assert result.returncode == 1
    assert "mono.wav: mono: an audit needs both sides" in result.stderr


def test_bad_settings_fail_before_any_file(tmp_path):
    result = ivr("audit", "x.wav", "--set", "nonsense=1")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown audit setting 'nonsense'")

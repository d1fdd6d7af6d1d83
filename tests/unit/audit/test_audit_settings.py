"""The audit's settings (defaults, units, seed lines, YAML and --set), its recordings (stereo
or a pair of mono files), the scripts' silent-line rules and the pace stretches."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

from ivr.audit import AuditSettings, load_audit_settings, recording, silent_line_rules
from ivr.audit.pace import stretches
from ivr.audit.settings import SETTING_INFO
from ivr.errors import IvrError
from ivr.events import Segment


def test_every_setting_has_a_unit_a_seed_line_and_a_documented_default():
    names = AuditSettings.names()
    assert set(names) == set(SETTING_INFO)
    for row in AuditSettings().described():
        assert row["unit"] and row["seed"][:3] in ("000", "001", "002", "003")
        assert row["value"] == row["default"]
    source = inspect.getsource(AuditSettings)
    for field in dataclasses.fields(AuditSettings):  # each with its docstring (units)
        after = source.split(f"    {field.name}: ", 1)[1].splitlines()[1]
        assert after.strip().startswith('"""'), field.name


def test_overrides_by_name_from_text_and_numbers():
    settings = AuditSettings().with_overrides({"dead_air_s": "4.5", "hello_turns": 2})
    assert settings.dead_air_s == 4.5 and settings.hello_turns == 2
    assert AuditSettings().dead_air_s == 3.0  # frozen defaults untouched


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"deadair_s": 1}, "unknown audit setting 'deadair_s'"),
        ({"dead_air_s": "soon"}, "dead_air_s must be a number"),
        ({"hello_turns": 2.5}, "hello_turns must be a whole number"),
        ({"overlap_max_s": -1}, "overlap_max_s must be in 0.0..10.0"),
        ({"level_min_dbfs": -10}, "level_min_dbfs (-10.0) must be below level_max_dbfs"),
    ],
)
def test_bad_overrides_name_the_setting(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        AuditSettings().with_overrides(overrides)


def test_yaml_audit_section_then_set(tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("audit:\n  dead_air_s: 5\n  hold_update_s: 20\n", encoding="utf-8")
    settings = load_audit_settings(config, {"hold_update_s": "25"})
    assert settings.dead_air_s == 5.0 and settings.hold_update_s == 25.0


def test_yaml_with_a_bad_value_names_the_file(tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("audit:\n  dead_air_s: never\n", encoding="utf-8")
    with pytest.raises(IvrError, match=re.escape("audit.yaml: audit: dead_air_s must be a number")):
        load_audit_settings(config, {})


def test_a_recording_is_a_stereo_file_or_a_pair(tmp_path):
    stereo = recording(tmp_path / "call.wav", "right")
    assert stereo.stereo and stereo.name == "call.wav"
    assert (stereo.agent_channel, stereo.customer_channel) == ("right", "left")
    pair = recording(f"{tmp_path}/agent.wav+{tmp_path}/customer.wav")
    assert not pair.stereo and pair.name == "agent.wav+customer.wav"
    assert pair.agent.name == "agent.wav" and pair.customer.name == "customer.wav"
    with pytest.raises(ValueError, match="invalid agent side: 'mix'"):
        recording("call.wav", "mix")


def test_a_file_with_a_plus_in_its_name_is_one_recording(tmp_path):
    path = tmp_path / "a+b.wav"
    path.write_bytes(b"x")
    assert recording(path).stereo


@pytest.mark.parametrize(
    ("script", "reprompts", "window", "pause"),
    [("inbound", 1, (4.5, 5.5), 5.0), ("outbound", 2, (2.5, 3.5), 2.0)],
)
def test_silent_line_rules_come_from_the_bundled_scripts(script, reprompts, window, pause):
    rules = silent_line_rules(script, AuditSettings())
    assert rules.reprompts == reprompts
    assert (rules.wait_low_s, rules.wait_high_s) == window
    assert rules.hangup_pause_s == pause


def seg(start: int, end: int) -> Segment:
    return Segment(start, end, -26.0, 40.0, -66.0, end - start)


def test_stretches_gather_a_windows_worth_of_speech():
    segments = [seg(0, 100), seg(150, 250), seg(300, 400), seg(450, 480)]
    groups = list(stretches(segments, 200))
    # 100+100 frames make one; 100 more, then a 30-frame tail (under half) joins it
    assert [[s.start for s in g] for g in groups] == [[0, 150], [300, 450]]
    assert list(stretches([seg(0, 50)], 200)) == []  # too little speech to time

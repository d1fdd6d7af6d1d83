"""`ivr synth --line`: what a telephone line says besides speech, synthesized for a script with
answering-machine detection, keys and a hold (real recorded greetings, announcements and
voices; China's tones, a key, a beep), replayed: each call ends as its manifest says, a
voicemail greeting is a machine within the analysis time, ringback ends the call once its
cadence is known, and the hold prompts come every 30 s of silence to the frame."""

from __future__ import annotations

import pytest
from realcall import records, replay
from shared import ROOT, ivr

from ivr.call_settings import AmdSettings
from ivr.corpus.labels import load_labels
from ivr.corpus.manifest import LINE_SITUATIONS, load_manifest
from ivr.detect.line_tones import RINGBACK_OFF_S
from ivr.synth.impulses import Sound, check_sound
from ivr.synth.line_signals import CADENCES_S

VALUES = ["--agent-id", "007", "--number", "13812345678"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("line")
    done = ivr("synth", "--script", "outbound_amd", "--line", *VALUES, "--out", str(out))
    assert done.returncode == 0, done.stderr
    manifest = load_manifest(out / "manifest.yaml")
    calls = manifest.calls
    return manifest, {c.situation: replay(manifest.audio_path(c), "outbound_amd") for c in calls}


def frames(seconds: float) -> int:
    return round(seconds / 0.02)


def test_every_line_situation_is_made_and_ends_as_labelled(corpus):
    manifest, results = corpus
    assert sorted(results) == sorted(LINE_SITUATIONS)
    outcomes = {c.file: c.outcome for c in load_labels(manifest.path)}
    for call in manifest.calls:
        assert outcomes[call.file] is not None
        assert results[call.situation].outcome == outcomes[call.file], call.file


def test_a_voicemail_greeting_is_a_machine_within_the_analysis_time(corpus):
    manifest, results = corpus
    result = results["voicemail"]
    (verdict,) = records(result, "amd")
    assert verdict.verdict == "machine"
    assert verdict.frame <= frames(AmdSettings().total_analysis_time_ms / 1000)
    (beep,) = records(result, "line_tone")
    assert beep.tone == "beep"
    (call,) = [c for c in manifest.calls if c.situation == "voicemail"]
    (labelled,) = call.sounds
    assert abs(beep.tone_start_s - labelled.start_s) <= 0.02
    (message,) = records(result, "prompt_started")  # the message, right after the beep
    assert message.prompt == "voicemail_message" and message.frame == beep.frame


def test_a_call_into_ringback_ends_once_its_off_period_is_long_enough(corpus):
    _, results = corpus
    result = results["ringback"]
    on, _ = CADENCES_S["ringback"]
    (hangup,) = records(result, "hangup")
    assert hangup.outcome == "network_tone" and result.prompts == []
    assert abs(hangup.frame - frames(on + RINGBACK_OFF_S)) <= 1


def test_busy_tone_ends_at_its_second_burst_and_sit_at_its_third_tone(corpus):
    _, results = corpus
    on, off = CADENCES_S["busy"]
    assert abs(records(results["busy_tone"], "hangup")[0].frame - frames(2 * on + off)) <= 2
    sit = records(results["carrier_announcement"], "hangup")[0]
    assert abs(sit.frame - frames(0.3 + 3 * 0.33)) <= 2


def test_the_pressed_key_is_heard_once_and_answers_the_question(corpus):
    manifest, results = corpus
    (call,) = [c for c in manifest.calls if c.situation == "presses_key"]
    (key,) = call.sounds
    result = results["presses_key"]
    (pressed,) = [r for r in result.timeline if r.event == "dtmf"]
    assert pressed.key == key.key == "2"
    assert 0 < pressed.frame * 0.02 - key.start_s <= 0.06  # decided within 60 ms of its start
    assert result.prompts == ["opening", "closing_wrong_person"]


def test_hold_prompts_come_every_30_s_of_silence_and_the_hold_returns_on_time(corpus):
    result = corpus[1]["on_hold"]
    (held,) = records(result, "hold_started")
    (ended,) = records(result, "hold_ended")
    started = {r.frame: r.prompt for r in records(result, "prompt_started")}
    finished = [r.frame for r in records(result, "prompt_finished")]
    progress = [f for f, p in started.items() if p == "hold_progress"]
    assert len(progress) == 2
    for at in progress:  # 30 s after the hold prompt before it finished playing out
        assert at - max(f for f in finished if f < at) == frames(30.0)
    playing_then = max(f for f in finished if f <= max(ended.frame, held.frame + frames(75.0)))
    assert ended.frame == max(held.frame + frames(75.0), playing_then)
    assert started[ended.frame] == "hold_return" and ended.how == "returned"


def test_a_script_without_a_message_for_machines_still_ends_ringback_as_network_tone(
    corpus, tmp_path
):
    """Between the rings the line is silent to answering-machine detection, whose verdict
    (INITIALSILENCE at 2.5 s) would end the call as `machine` before the ringback is known
    (4.2 s): the verdict waits for the tone detector."""
    from realcall import VALUES

    from ivr.call.replay import replay_file
    from ivr.script import load_script
    from ivr.tts import PromptCache

    text = (ROOT / "prompts" / "outbound_amd.yaml").read_text("utf-8")
    text = text.replace("amd: {leave_message: voicemail, beep_timeout_s: 20}", "amd: {}")
    text = text[: text.index("  voicemail:\n")] + text[text.index("  goodbye:\n") :]
    path = tmp_path / "amd_no_message.yaml"
    path.write_text(text, encoding="utf-8")
    script = load_script(path, VALUES)
    assert script.amd is not None and script.amd.leave_message is None
    manifest, _ = corpus
    calls = {c.situation: manifest.audio_path(c) for c in manifest.calls}
    ringback = replay_file(calls["ringback"], script, PromptCache())
    assert ringback.outcome == "network_tone", ringback.summary()
    voicemail = replay_file(calls["voicemail"], script, PromptCache())
    assert voicemail.outcome == "machine" and voicemail.prompts == []
    (verdict,) = records(voicemail, "amd")
    assert verdict.frame <= frames(AmdSettings().total_analysis_time_ms / 1000)


@pytest.mark.parametrize(
    ("sound", "problem"),
    [
        (Sound(0.0, "dtmf", 30.0, -10.0, key="5"), "a dtmf lasts 40-2000 ms, got 30.0"),
        (Sound(0.0, "dtmf", 50.0, -10.0), "key is given exactly for a dtmf sound"),
        (Sound(0.0, "dtmf", 50.0, -10.0, key="X"), "key must be one of 123A456B789C*0#D"),
        (Sound(0.0, "click", 10.0, -10.0, key="1"), "key is given only for a dtmf sound"),
        (Sound(0.0, "busy", 100.0, -10.0), "a busy lasts 350-600000 ms, got 100.0"),
        (Sound(0.0, "beep", 100.0, -10.0), None),
    ],
)
def test_a_line_sound_is_checked_for_its_length_and_key(sound, problem):
    found = check_sound(sound)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found

"""`ivr audit`'s items on stereo calls of real human speech placed at known times: each
violation found at its time (within 100 ms), none on the clean calls; as 16 kHz PCM WAV and
as 8 kHz mu-law WAV (the clean call also as A-law)."""

from __future__ import annotations

import pytest
from audit_calls import Said, at_level, faster, say, utterance, write_call

from ivr.audit import AuditSettings, Verdict, audit_call, recording, silent_line_rules

SETTINGS = AuditSettings()
TOLERANCE_S = 0.1
FORMATS = ["pcm16", "mulaw"]
"""Written as 16 kHz PCM WAV, then as 8 kHz mu-law."""
FORMAT_IDS = ["wav16k", "mulaw8k"]


def clean_call() -> list[Said]:
    """A customer's 喂, an answer, a question, an answer (a 0.4 s back-channel of the agent's
    inside it), a last question, the closing."""
    return [
        say("customer", 0.5, 0),  # 0.5-1.3
        say("agent", 2.0, 7),  # 2.0-6.84
        say("customer", 7.3, 6),  # 7.3-9.84
        say("agent", 8.2, 0, seconds=0.4),  # back-channel
        say("agent", 10.5, 8),  # 10.5-16.08
        say("customer", 16.6, 2),  # 16.6-18.0
        say("agent", 18.6, 9),  # 18.6-21.38
    ]


def scored(tmp_path, said, duration_s, codec, script="inbound", name="call.wav"):
    path = write_call(tmp_path, name, said, duration_s, codec=codec)
    rules = silent_line_rules(script, SETTINGS)
    return audit_call(recording(path), SETTINGS, rules)


def assert_failed_at(card, key, times):
    result = card.result(key)
    assert result.verdict is Verdict.FAIL, (key, result)
    assert len(result.moments) == len(times), (key, result)
    for found, expected in zip(result.moments, times, strict=True):
        assert abs(found - expected) <= TOLERANCE_S, (key, result, expected)


@pytest.mark.parametrize("codec", [*FORMATS, "alaw"], ids=[*FORMAT_IDS, "alaw8k"])
def test_clean_call_passes_every_item_measured(tmp_path, codec):
    card = scored(tmp_path, clean_call(), 25.0, codec)
    verdicts = {r.key: r.verdict for r in card.results}
    assert not card.failed, card.line()
    assert verdicts["silent_line"] is Verdict.NA  # the customer speaks
    for key in ("interrupting", "late_answer", "hold", "hung_up_first", "volume", "pace"):
        assert verdicts[key] is Verdict.PASS, (key, card.result(key))
    assert verdicts["dead_air"] is Verdict.PASS
    for key in ("greeting_closing", "forbidden", "politeness"):
        assert verdicts[key] is Verdict.NA  # words: never guessed


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_interrupting_found_at_the_agents_start(tmp_path, codec):
    said = [
        say("customer", 0.5, 0),
        say("agent", 2.0, 9),  # 2.0-4.78
        say("customer", 5.3, 8),  # 5.3-10.88
        say("agent", 7.0, 7),  # over the customer for 3.9 s
    ]
    card = scored(tmp_path, said, 15.0, codec)
    assert_failed_at(card, "interrupting", [7.0])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_three_hellos_before_the_agent_is_a_late_answer(tmp_path, codec):
    said = [say("customer", t, 0) for t in (0.5, 2.0, 3.5)] + [say("agent", 5.0, 9)]
    card = scored(tmp_path, said, 10.0, codec)
    assert_failed_at(card, "late_answer", [3.5])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_long_wait_after_the_first_hello_is_a_late_answer(tmp_path, codec):
    said = [say("customer", 0.5, 0), say("agent", 4.0, 9)]  # 2.7 s after the 喂 ended
    card = scored(tmp_path, said, 9.0, codec)
    assert_failed_at(card, "late_answer", [1.3])


def silent_line_call(
    waits: list[float], hangup_after_s: float, index: int = 2
) -> tuple[list[Said], float]:
    """Agent prompts (utterance `index`: 1.4 s) separated by `waits`; the customer silent."""
    said, t = [], 0.5
    for wait in [0.0, *waits]:
        t += wait
        said.append(say("agent", t, index))
        t = said[-1].end_s
    return said, t + hangup_after_s


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
@pytest.mark.parametrize(
    ("script", "waits", "pause"), [("inbound", [5.0, 5.0], 5.2), ("outbound", [3.0] * 3, 2.2)]
)
def test_a_silent_line_handled_as_the_script_says_passes(tmp_path, codec, script, waits, pause):
    said, duration = silent_line_call(waits, pause)
    card = scored(tmp_path, said, duration, codec, script=script)
    result = card.result("silent_line")
    assert result.verdict is Verdict.PASS, result
    assert card.result("late_answer").verdict is Verdict.PASS  # the agent spoke first


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_hanging_up_a_silent_line_without_the_repeats(tmp_path, codec):
    said, duration = silent_line_call([], 5.2)  # the greeting, then nothing
    card = scored(tmp_path, said, duration, codec)
    assert_failed_at(card, "silent_line", [said[0].end_s])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_silent_line_repeated_too_soon(tmp_path, codec):
    said, duration = silent_line_call([2.0, 5.0], 5.2)  # inbound waits 4.5-5.5 s
    card = scored(tmp_path, said, duration, codec)
    assert_failed_at(card, "silent_line", [said[0].end_s])


def hold_call(gaps: list[float]) -> tuple[list[Said], float]:
    """喂, the agent asks to wait, silences of `gaps` (s) broken by 1.4 s updates, then the
    agent comes back and the customer answers."""
    said = [say("customer", 0.5, 0), say("agent", 2.0, 6)]  # agent 2.0-4.54
    t = said[-1].end_s
    for gap in gaps:
        said.append(say("agent", t + gap, 2))
        t = said[-1].end_s
    said.append(say("customer", t + 0.5, 9))
    said.append(say("agent", said[-1].end_s + 0.5, 9))
    return said, said[-1].end_s + 3.0


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_hold_with_updates_every_25_s_passes(tmp_path, codec):
    said, duration = hold_call([25.0, 25.0])
    card = scored(tmp_path, said, duration, codec)
    assert card.result("hold").verdict is Verdict.PASS, card.result("hold")
    assert not card.failed, card.line()


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_hold_without_an_update_for_35_s(tmp_path, codec):
    said, duration = hold_call([35.0])
    card = scored(tmp_path, said, duration, codec)
    assert_failed_at(card, "hold", [4.54])


def test_a_hold_longer_than_a_minute_despite_its_updates(tmp_path):
    said, duration = hold_call([25.0, 25.0, 25.0])  # 77.8 s from its first silence
    card = scored(tmp_path, said, duration, "pcm16")
    assert_failed_at(card, "hold", [4.54])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_recording_ending_while_the_customer_speaks(tmp_path, codec):
    said = [say("customer", 0.5, 0), say("agent", 2.0, 9), say("customer", 5.3, 8)]
    card = scored(tmp_path, said, 8.0, codec)  # cut 2.7 s into the customer's 5.6 s
    assert_failed_at(card, "hung_up_first", [8.0])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_hanging_up_right_after_the_customer_without_a_closing(tmp_path, codec):
    said = [say("customer", 0.5, 0), say("agent", 2.0, 9), say("customer", 5.3, 6)]
    card = scored(tmp_path, said, 8.84, codec)  # 1.0 s after the customer's last words
    assert_failed_at(card, "hung_up_first", [8.84])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_quiet_agent(tmp_path, codec):
    said = clean_call()
    said[4] = say("agent", 10.5, 8, dbfs=-46.0)
    card = scored(tmp_path, said, 25.0, codec)
    assert_failed_at(card, "volume", [10.5])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_fast_agent(tmp_path, codec):
    """Two turns of real speech 1.8x faster (pitch kept): about 7 syllables/s and more."""
    said = clean_call()[:4]
    start = 10.5
    for index in (5, 8):
        said.append(Said("agent", start, at_level(faster(utterance(index), 1.8), -26.0)))
        start = said[-1].end_s + 0.5
    said.append(say("customer", said[-1].end_s + 0.6, 2))
    said.append(say("agent", said[-1].end_s + 0.6, 9))
    card = scored(tmp_path, said, said[-1].end_s + 3.0, codec)
    result = card.result("pace")
    assert result.verdict is Verdict.FAIL, result
    assert any(abs(m - 10.5) <= TOLERANCE_S for m in result.moments), result


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_dead_air_after_the_customers_question(tmp_path, codec):
    said = [
        say("customer", 0.5, 0),
        say("agent", 2.0, 9),  # 2.0-4.78
        say("customer", 5.3, 6),  # 5.3-7.84
        say("agent", 12.0, 9),  # 4.16 s later
    ]
    card = scored(tmp_path, said, 17.0, codec)
    assert_failed_at(card, "dead_air", [7.84])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_silent_line_hung_up_right_after_the_closing(tmp_path, codec):
    said, duration = silent_line_call([3.0] * 3, 0.5)  # outbound pauses 2 s before hanging up
    card = scored(tmp_path, said, duration, codec, script="outbound")
    assert_failed_at(card, "silent_line", [said[-1].end_s])


@pytest.mark.parametrize("codec", FORMATS, ids=FORMAT_IDS)
def test_a_loud_agent(tmp_path, codec):
    said = clean_call()
    said[1] = say("agent", 2.0, 7, dbfs=-9.0)
    card = scored(tmp_path, said, 25.0, codec)
    assert_failed_at(card, "volume", [2.0])


def test_a_noisy_customer_line_is_nobody_talking_and_no_silent_line(tmp_path):
    """Loud noise on the customer's side: webrtcvad hears it as speech, the classifier as
    noise; the agent's prompts over it interrupt nobody, and the line is not silent."""
    import numpy as np
    import soundfile as sf
    from audit_calls import stereo

    said, duration = silent_line_call([3.0] * 3, 2.2, index=6)  # 2.5 s prompts
    audio = stereo(said, duration).astype(np.float64)
    rng = np.random.default_rng(3)
    audio[:, 1] += rng.normal(0, 10 ** (-35 / 20) * 32768, audio.shape[0])
    path = tmp_path / "noisy.wav"
    sf.write(path, np.clip(audio, -32768, 32767).astype(np.int16), 16000)
    card = audit_call(recording(path), SETTINGS, silent_line_rules("outbound", SETTINGS))
    assert card.result("silent_line").verdict is Verdict.NA
    assert card.result("interrupting").verdict is Verdict.NA
    assert not card.failed, card.line()

"""QA score of a call from its timeline: each item on hand-made timelines."""

from dataclasses import replace

import pytest
from handmade import record as r
from shared import OUTBOUND_VALUES

from ivr.qa.phrases import ForbiddenPhrase
from ivr.qa.score import QaSettings, score_call

PROMPTS = {
    "hello": "您好!请问您是机主吗?",
    "again": "您好!您好!请问能听到吗?",
    "bye": "对不起,电话一直没有声音,祝您生活愉快,再见!",
    "rude": "喂,说话呀!",
    "thanks": "好的,谢谢您的接听,再见!",
}
FORBIDDEN = [ForbiddenPhrase(text, "test") for text in ("喂", "说话呀", "大声点")]


def silent_call(reprompts=2):
    tl = [r(0, "prompt_started", prompt="hello"), r(3, "prompt_finished")]
    t = 6.0
    for _ in range(reprompts):
        tl += [r(t, "noinput", count=1), r(t, "prompt_started", prompt="again")]
        t += 5
    tl += [
        r(t, "noinput", count=3),
        r(t, "prompt_started", prompt="bye"),
        r(t + 4, "pause_started"),
    ]
    tl += [r(t + 6, "hangup", outcome="no_answer")]
    return tl


def test_a_silent_call_by_the_standard_scores_100():
    qa = score_call(silent_call(2), PROMPTS, FORBIDDEN)
    assert qa.score == 100.0
    assert qa.items["answered_in_time"] is None  # nothing to answer
    assert qa.reprompts == 2  # the closing is not a re-prompt


def test_too_many_reprompts_fail_their_item():
    qa = score_call(silent_call(3), PROMPTS, FORBIDDEN, QaSettings(max_reprompts=2))
    assert qa.items["reprompts_within_limit"] is False
    assert qa.score == pytest.approx(80.0)


def test_forbidden_phrase_missing_greeting_and_no_closing():
    tl = [r(0, "prompt_started", prompt="rude"), r(2, "hangup", outcome="no_answer")]
    items = score_call(tl, PROMPTS, FORBIDDEN).items
    assert items["no_forbidden_phrase"] is False
    assert items["greeting"] is False
    assert items["closing"] is False


def test_hangup_while_the_callee_speaks():
    tl = silent_call(0)
    tl.insert(-1, r(tl[-1].t - 0.5, "vad_start"))
    assert score_call(tl, PROMPTS, FORBIDDEN).items["no_hangup_while_speaking"] is False


@pytest.mark.parametrize(("gap_s", "ok"), [(0.8, True), (2.5, False)])
def test_answer_within_the_allowed_time(gap_s, ok):
    tl = [
        r(0, "prompt_started", prompt="hello"),
        r(3, "prompt_finished"),
        r(4, "speech_ended", speech_end_s=4.0),
        r(4 + gap_s, "speech", count=1),
        r(4 + gap_s, "prompt_started", prompt="thanks"),
        r(8, "hangup", outcome="answered"),
    ]
    assert score_call(tl, PROMPTS, FORBIDDEN).items["answered_in_time"] is ok


def test_an_interrupted_call_is_not_blamed_for_its_closing():
    tl = [r(0, "prompt_started", prompt="hello"), r(1, "hangup", outcome="aborted")]
    assert score_call(tl, PROMPTS, FORBIDDEN).items["closing"] is None


@pytest.mark.parametrize("outcome", ["network_tone", "carrier_announcement", "machine", "busy"])
def test_a_call_that_reached_no_one_and_said_nothing_owes_no_closing(outcome):
    qa = score_call([r(4.2, "hangup", outcome=outcome)], PROMPTS, FORBIDDEN)
    assert qa.items["closing"] is None and qa.items["greeting"] is None
    assert qa.score == 100.0


def test_a_call_that_said_something_to_no_one_still_owes_its_closing():
    tl = [r(0, "prompt_started", prompt="hello"), r(5, "hangup", outcome="network_tone")]
    assert score_call(tl, PROMPTS, FORBIDDEN).items["closing"] is False


def test_settings_are_checked():
    with pytest.raises(ValueError, match="answer_within_ms"):
        QaSettings(answer_within_ms=0)


def script_with(tmp_path, old: str, new: str):
    from ivr.script import load_script
    from ivr.script.loader import PROMPTS_DIR

    text = (PROMPTS_DIR / "outbound.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "outbound.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_script(path, {"agent_id": "1", "number": "13812345678"})


def test_the_limits_come_from_the_script(tmp_path):
    from ivr.script import load_script

    assert QaSettings.for_script(load_script("inbound")) == QaSettings(2000, max_reprompts=1)
    script = script_with(tmp_path, "answer_within_ms: 2000", "answer_within_ms: 1500")
    assert QaSettings.for_script(script).answer_within_ms == 1500
    assert QaSettings.for_script(script, answer_within_ms=700).answer_within_ms == 700
    assert script.direction == "outbound"
    with pytest.raises(ValueError, match="answer_within_ms"):
        QaSettings.for_script(script, answer_within_ms=0)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("max_reprompts: 2", "max_reprompts: 2.5", "qa: max_reprompts must be a whole number"),
        ("max_reprompts: 2", "max_reprompts: 99", r"in 0\.\.20"),
        ("max_reprompts: 2", "reprompts: 2", "unknown key 'reprompts'"),
        ("direction: outbound", "direction: sideways", "direction must be outbound or inbound"),
    ],
)
def test_bad_limits_name_file_line_and_rule(tmp_path, old, new, message):
    from ivr.errors import ScriptError

    with pytest.raises(ScriptError, match=message) as caught:
        script_with(tmp_path, old, new)
    text = (tmp_path / "outbound.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, row in enumerate(text, 1) if new in row)
    assert str(caught.value).startswith(f"{tmp_path / 'outbound.yaml'}:{line}: schema: ")


def test_a_placeholder_value_is_not_a_forbidden_phrase():
    """The number called may hold 88 (a forbidden phrase): the prompt as written does not."""
    prompts = {"opening": "您好!请问您是{number}的机主吗?再见"}
    timeline = [r(0, "prompt_started", prompt="opening"), r(5, "hangup", outcome="no_answer")]
    banned = [ForbiddenPhrase("88", "seed 003")]
    assert score_call(timeline, prompts, banned).items["no_forbidden_phrase"] is True
    filled = {"opening": "您好!请问您是13888885678的机主吗?再见"}
    assert score_call(timeline, filled, banned).items["no_forbidden_phrase"] is False


def test_a_handler_that_only_acts_owes_no_answer_and_live_latency_counts():
    tl = [
        r(0, "prompt_started", prompt="hello"),
        r(3, "prompt_finished"),
        r(4, "speech_ended", speech_end_s=4.0),
        r(4.8, "low_volume", count=1),
        r(4.8, "input_gain", db=6),
        r(7.8, "noinput", count=1),
        r(7.8, "prompt_started", prompt="again"),
        r(9, "speech_ended", speech_end_s=9.0),
        r(9.8, "speech", count=1),
        r(9.8, "prompt_started", prompt="thanks"),
        r(9.8, "prompt_out", prompt="thanks", start_latency_ms=1500.0),
        r(14, "hangup", outcome="answered"),
    ]
    qa = score_call(tl, PROMPTS, FORBIDDEN)
    assert qa.answer_ms == 2300  # 800 ms to decide + 1500 ms until it was heard
    assert qa.items["answered_in_time"] is False
    assert score_call(tl, PROMPTS, FORBIDDEN, QaSettings(2300)).items["answered_in_time"]


def test_a_prompt_started_while_the_callee_speaks_talks_over_them():
    tl = silent_call(1)
    again = next(x for x in tl if getattr(x, "prompt", None) == "again")
    speech = r(again.t - 1.0, "vad_end", speech_start_s=again.t - 2.0)
    speech = replace(speech, speech_end_s=again.t + 0.5)  # still speaking when we start
    at = tl.index(again) + 1
    tl.insert(at, speech)
    assert score_call(tl, PROMPTS, FORBIDDEN).items["no_talking_over"] is False
    tl[at] = replace(speech, speech_end_s=again.t - 0.02)  # a frame before: not talked over
    assert score_call(tl, PROMPTS, FORBIDDEN).items["no_talking_over"] is True


def test_speech_still_open_at_a_prompt_is_talked_over_and_no_speech_is_not_judged():
    tl = silent_call(1)
    assert score_call(tl, PROMPTS, FORBIDDEN).items["no_talking_over"] is None
    again = next(x for x in tl if getattr(x, "prompt", None) == "again")
    tl.insert(tl.index(again), r(again.t - 0.3, "vad_start", speech_start_s=again.t - 0.4))
    assert score_call(tl, PROMPTS, FORBIDDEN).items["no_talking_over"] is False


@pytest.mark.parametrize(
    ("heard_as", "talked_over"),
    [("noise", False), ("silence", False), ("speech", True), ("low_volume", True), (None, True)],
)
def test_only_what_the_engine_hears_as_the_callee_is_talked_over(heard_as, talked_over):
    """A segment the engine hears as `noise` (a noisy line's babble) or `silence` is not the
    callee speaking; `speech`, `low_volume` and a segment not judged (older timelines) are."""
    tl = silent_call(1)
    again = next(x for x in tl if getattr(x, "prompt", None) == "again")
    speech = r(again.t + 1.0, "vad_end", speech_start_s=again.t - 2.0, heard_as=heard_as)
    tl.insert(tl.index(again) + 1, replace(speech, speech_end_s=again.t + 0.5))
    items = score_call(tl, PROMPTS, FORBIDDEN).items
    assert items["no_talking_over"] is (False if talked_over else None)  # None: nobody spoke


@pytest.mark.parametrize(("heard_as", "ok"), [("noise", True), ("speech", False)])
def test_hanging_up_on_a_noisy_line_is_not_hanging_up_on_the_callee(heard_as, ok):
    tl = silent_call(0)
    hangup = tl[-1]
    tl.insert(-1, r(hangup.t - 5.0, "vad_start", speech_start_s=hangup.t - 5.2))
    tl.append(r(hangup.t, "vad_open", speech_start_s=hangup.t - 5.2, heard_as=heard_as))
    assert score_call(tl, PROMPTS, FORBIDDEN).items["no_hangup_while_speaking"] is ok


def test_a_reprompt_started_as_a_clear_callee_begins_to_answer_talks_over_them(tmp_path):
    """Real audio: the callee says 是的,我是 2.9 s after the opening ends, just before the 3 s
    no-input deadline; the detectors know it is speech only some frames later, so the re-prompt
    starts over their first word. That is talking over a clear talker, heard as `speech`."""
    from ivr.call.replay import replay_file
    from ivr.script import load_script
    from ivr.synth.calls import CallSpec, Utterance
    from ivr.synth.corpus import write_corpus
    from ivr.tts import PromptCache

    script = load_script("outbound", OUTBOUND_VALUES)
    cache = PromptCache()
    answer_s = round(cache.render_all(script.prompts)["opening"].duration_s + 2.9, 2)
    spec = CallSpec(
        "answer_at_deadline", "answers_late", answer_s + 10, (Utterance(answer_s, "是的,我是"),),
        "clean", "pink", -66.0, seed=3,
    )  # fmt: skip
    manifest = write_corpus([spec], tmp_path, seed=1)
    result = replay_file(manifest.parent / spec.file, script, cache)
    reprompt = next(r for r in result.timeline if r.event == "prompt_started" and r.t > 1)
    [segment] = [
        r for r in result.timeline if r.event == "vad_end" and r.speech_start_s < reprompt.t
    ]
    assert segment.heard_as == "speech" and segment.speech_end_s > reprompt.t
    qa = score_call(result.timeline, script.templates, FORBIDDEN)
    assert qa.items["no_talking_over"] is False

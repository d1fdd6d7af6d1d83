"""QA score of a call from its timeline: each item on hand-made timelines."""

import pytest

from ivr.qa.score import QaSettings, score_call

PROMPTS = {
    "hello": "您好!请问您是机主吗?",
    "again": "您好!您好!请问能听到吗?",
    "bye": "对不起,电话一直没有声音,祝您生活愉快,再见!",
    "rude": "喂,说话呀!",
    "thanks": "好的,谢谢您的接听,再见!",
}
FORBIDDEN = ["喂", "说话呀", "大声点"]


def r(t, event, **more):
    return {"t": t, "frame": round(t * 50), "event": event, **more}


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
    assert qa["score"] == 100.0
    assert qa["items"]["answered_in_time"] is None  # nothing to answer
    assert qa["reprompts"] == 2  # the closing is not a re-prompt


def test_too_many_reprompts_fail_their_item():
    qa = score_call(silent_call(3), PROMPTS, FORBIDDEN, QaSettings(max_reprompts=2))
    assert qa["items"]["reprompts_within_limit"] is False
    assert qa["score"] == pytest.approx(80.0)


def test_forbidden_phrase_missing_greeting_and_no_closing():
    tl = [r(0, "prompt_started", prompt="rude"), r(2, "hangup", outcome="no_answer")]
    items = score_call(tl, PROMPTS, FORBIDDEN)["items"]
    assert items["no_forbidden_phrase"] is False
    assert items["greeting"] is False
    assert items["closing"] is False


def test_hangup_while_the_callee_speaks():
    tl = silent_call(0)
    tl.insert(-1, r(tl[-1]["t"] - 0.5, "vad_start"))
    assert score_call(tl, PROMPTS, FORBIDDEN)["items"]["no_hangup_while_speaking"] is False


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
    assert score_call(tl, PROMPTS, FORBIDDEN)["items"]["answered_in_time"] is ok


def test_an_interrupted_call_is_not_blamed_for_its_closing():
    tl = [r(0, "prompt_started", prompt="hello"), r(1, "hangup", outcome="aborted")]
    assert score_call(tl, PROMPTS, FORBIDDEN)["items"]["closing"] is None


def test_settings_are_checked():
    with pytest.raises(ValueError, match="answer_within_ms"):
        QaSettings(answer_within_ms=0)

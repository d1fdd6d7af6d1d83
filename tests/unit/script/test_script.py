"""Call scripts: the shipped outbound and inbound scripts, and every validation rule of the loader.

Malformed scripts are small files in tmp_path; each error must be one line reading
`<file>:<line>: <rule>: <message>` with the offending line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shared import OUTBOUND_VALUES, text_writer

from ivr.errors import ScriptError
from ivr.script import (
    EVENTS,
    NO_PROGRESS_EVENTS,
    PROMPTS_DIR,
    Goto,
    Handler,
    HangupAction,
    Listen,
    Pause,
    Say,
    Script,
    SetInputGain,
    SetOutputVolume,
    list_scripts,
    load_script,
    script_path,
)

HEAD = """\
script: t
start: ask
prompts:
  hello: 你好
  bye: 再见
defaults:
  listen: {noinput_timeout_s: 3.0, end_of_speech_s: 0.8, max_speech_s: 10.0}
states:
"""
ASK = """\
  ask:
    say: hello
    listen: {}
    on:
      speech: [{do: [{goto: done}]}]
      noinput:
        - {count: 1, do: [{say: hello}]}
        - {count: 2, do: [{say: bye}, {hangup: no_answer}]}
"""
DONE = """\
  done:
    say: [bye]
    do: [{pause: 1}, {hangup: answered}]
"""
GOOD = HEAD + ASK + DONE


write = text_writer("t.yaml")


def line_of(text: str, needle: str) -> int:
    """The line (from 1) of the first line of `text` containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the script")


def error_of(tmp_path: Path, text: str, values: dict[str, str] | None = None) -> str:
    """The message of the ScriptError loading `text` raises; it must be one line."""
    path = write(tmp_path, text)
    with pytest.raises(ScriptError) as info:
        load_script(path, values)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    return message


def check(tmp_path: Path, text: str, rule: str, needle: str, *contains: str) -> str:
    """Loading `text` fails with `rule` at the line holding `needle`; the message has `contains`."""
    message = error_of(tmp_path, text)
    expected = f"{tmp_path / 't.yaml'}:{line_of(text, needle)}: {rule}: "
    assert message.startswith(expected), message
    for part in contains:
        assert part in message, message
    return message


def outbound() -> Script:
    return load_script("outbound", OUTBOUND_VALUES)


# ---- the shipped scripts --------------------------------------------------------------------


def test_bundled_scripts_are_listed_and_found() -> None:
    assert {"outbound", "inbound"} <= set(list_scripts())
    assert script_path("outbound") == PROMPTS_DIR / "outbound.yaml"
    assert script_path("x/y.yaml") == Path("x/y.yaml")
    assert script_path(Path("inbound")) == Path("inbound")
    assert (PROMPTS_DIR / "inbound.yaml").is_file()


def test_outbound_texts_word_for_word() -> None:
    script = outbound()
    assert script.name == "outbound"
    assert script.start == "opening"
    assert script.max_call_s == 120.0
    prompts = script.prompts
    assert prompts["opening"] == (
        "您好!我是温州气象局1001号客户代表,您在国内接听我的电话是免费的。"
        "请问您是13812345678的机主吗?"
    )
    assert prompts["hello_again"] == "您好!您好!请问能听到吗?"
    assert prompts["connected"] == "您好!您的电话已接通,请问您能听见我的声音吗?"
    assert prompts["speak_up"] == "对不起,我听不清您的声音,麻烦您大声一点,可以吗?"
    assert prompts["closing_low_volume"] == (
        "对不起,电话声音太小,我听不清楚您的声音这边就先打扰您了,祝您生活愉快,再见!"
    )
    assert prompts["closing_noisy"] == (
        "对不起,电话杂音太大,我听不清楚您的声音这边就先打扰您了,祝您生活愉快,再见!"
    )
    assert prompts["pardon"] == "对不起,我没听清楚您的讲话,您能再重复一遍吗?谢谢!"
    assert prompts["can_you_hear_me"] == "请问能听到这边说话吗?"
    assert prompts["closing_wrong_person"] == "对不起,打扰您了,祝您生活愉快,再见!"
    assert prompts["closing_cannot_hear"] == (
        "对不起,您听不清楚我的声音,这边就先打扰您了,祝您生活愉快,再见!"
    )
    for closing in ("closing_no_sound", "closing_choppy", "closing_nomatch", "thanks_goodbye"):
        assert prompts[closing].endswith("再见!")


def test_outbound_timing_and_escalation() -> None:
    script = outbound()
    opening = script.states["opening"]
    assert opening.say == ("opening",)
    assert opening.listen == Listen(3.0, 0.8, 10.0, barge_in=False)
    actions = {event: [h.actions for h in handlers] for event, handlers in opening.handlers.items()}
    assert actions["speech"] == [(Goto("answered"),)]
    assert actions["noinput"] == [
        (Say("hello_again"),),
        (Say("connected"),),
        (Say("closing_no_sound"), Pause(2.0), HangupAction("no_answer")),
    ]
    assert actions["low_volume"] == [
        (SetInputGain(6.0),),
        (SetInputGain(12.0),),
        (Say("speak_up"),),
        (Say("speak_up"),),
        (Say("closing_low_volume"), Pause(2.0), HangupAction("low_volume")),
    ]
    assert actions["noise"] == [
        (SetInputGain(-6.0),),
        (Say("closing_noisy"), Pause(2.0), HangupAction("noisy_line")),
    ]
    assert actions["choppy"] == [
        (Say("pardon"),),
        (Say("closing_choppy"), Pause(2.0), HangupAction("choppy_line")),
    ]
    assert actions["nomatch"] == [
        (Say("pardon"),),
        (Say("closing_nomatch"), Pause(2.0), HangupAction("nomatch")),
    ]
    assert actions["confirm"] == [(Goto("answered"),)]
    assert actions["deny"] == [
        (Say("closing_wrong_person"), Pause(2.0), HangupAction("wrong_person"))
    ]
    assert actions["cannot_hear"] == [
        (SetOutputVolume(6.0), Say("can_you_hear_me")),
        (SetOutputVolume(12.0), Say("can_you_hear_me")),
        (Say("closing_cannot_hear"), Pause(2.0), HangupAction("cannot_hear")),
    ]
    answered = script.states["answered"]
    assert answered.listen is None and answered.handlers == {}
    assert answered.say == ("thanks_goodbye",)
    assert answered.actions == (Pause(2.0), HangupAction("answered"))


def test_inbound_texts_timing_and_escalation() -> None:
    script = load_script("inbound")
    assert script.start == "greeting"
    prompts = script.prompts
    assert prompts["greeting"] == "您好!请问有什么可以帮助您?"
    assert prompts["closing_no_sound"] == "对不起,您的电话没有声音,请您换一部电话再打来,再见!"
    assert prompts["speak_up"] == "对不起!请您大声一点,好吗?"
    assert prompts["closing_low_volume"] == (
        "对不起!您的电话声音太小,请您换一部电话再次打来,好吗?再见!"
    )
    assert prompts["closing_noisy"] == (
        "对不起,您的电话杂音太大,听不清,请您换一部电话再次打来好吗?再见!"
    )
    assert prompts["choppy_repeat"] == "很抱歉,您讲话的声音时断时续,请您再重复一下,好吗?"
    assert prompts["closing_choppy"] == (
        "很抱歉!我的确无法听清楚您的讲话内容,请您稍后再拨或换一部电话再打,好吗?再见!"
    )
    assert prompts["repeat_please"] == "对不起,麻烦您将刚才反映的问题再复述一遍,好吗?"
    assert prompts["thanks_goodbye"] == "感谢您的来电,再见!"
    assert prompts["closing_nomatch"].endswith("再见!")
    greeting = script.states["greeting"]
    assert greeting.listen is not None and greeting.listen.noinput_timeout_s == 5.0
    actions = {e: [h.actions for h in hs] for e, hs in greeting.handlers.items()}
    assert actions["speech"] == [(Goto("goodbye"),)]
    assert actions["noinput"] == [
        (Say("greeting"),),
        (Say("closing_no_sound"), Pause(5.0), HangupAction("no_answer")),
    ]
    assert actions["low_volume"] == [
        (Say("speak_up"),),
        (Say("closing_low_volume"), Pause(5.0), HangupAction("low_volume")),
    ]
    assert actions["noise"] == [(Say("closing_noisy"), Pause(5.0), HangupAction("noisy_line"))]
    assert actions["choppy"] == [
        (Say("choppy_repeat"),),
        (Say("closing_choppy"), Pause(5.0), HangupAction("choppy_line")),
    ]
    assert actions["nomatch"] == [
        (Say("repeat_please"),),
        (Say("closing_nomatch"), Pause(5.0), HangupAction("nomatch")),
    ]
    assert prompts["pardon_louder"] == "对不起,请问有什么可以帮助您?"
    assert prompts["closing_cannot_hear"] == (
        "对不起,您听不清楚我的声音,请您换一部电话再打来,再见!"
    )
    assert actions["cannot_hear"] == [
        (SetOutputVolume(6.0), Say("pardon_louder")),
        (SetOutputVolume(12.0), Say("pardon_louder")),
        (Say("closing_cannot_hear"), Pause(5.0), HangupAction("cannot_hear")),
    ]
    assert script.states["goodbye"].actions == (Pause(2.0), HangupAction("answered"))


def test_outbound_opening_intents() -> None:
    opening = outbound().states["opening"]
    assert list(opening.intents) == ["confirm", "deny", "cannot_hear"]
    assert opening.intents["confirm"][:2] == ("是的 我 是", "我 是")
    for intent, phrase in (("confirm", "是的"), ("deny", "不是"), ("deny", "打错 了")):
        assert phrase in opening.intents[intent]
    for phrase in ("听不清", "听不见", "大声 点", "你 说 什么", "声音 太 小"):
        assert phrase in opening.intents["cannot_hear"]
    assert opening.unmatched == "nomatch"
    # no phrase says two things, however its words are split
    joined = [("".join(p.split()), i) for i, ps in opening.intents.items() for p in ps]
    assert len({text for text, _ in joined}) == len(joined)


def test_inbound_greeting_intents() -> None:
    greeting = load_script("inbound").states["greeting"]
    assert list(greeting.intents) == ["cannot_hear"]
    assert "听不清" in greeting.intents["cannot_hear"]
    assert greeting.unmatched == "speech"
    assert greeting.handlers["speech"][0].actions == (Goto("goodbye"),)


def test_cannot_hear_raises_our_volume_step_by_step() -> None:
    for script, asked in (
        (outbound(), "can_you_hear_me"),
        (load_script("inbound"), "pardon_louder"),
    ):
        state = script.states[script.start]
        steps = [state.handler_for("cannot_hear", n) for n in range(1, 6)]
        assert [h.count for h in steps] == [1, 2, 3, 3, 3]
        volumes = [[a.db for a in h.actions if isinstance(a, SetOutputVolume)] for h in steps[:2]]
        assert volumes == [[6.0], [12.0]]
        assert [h.actions[-1] for h in steps[:2]] == [Say(asked), Say(asked)]
        assert steps[2].actions[-1] == HangupAction("cannot_hear")
        assert script.prompts[steps[2].actions[0].prompt].endswith("再见!")


@pytest.mark.parametrize("name", ["outbound", "inbound"])
def test_shipped_scripts_are_fully_typed(name: str) -> None:
    script = load_script(name, OUTBOUND_VALUES)
    action_types = (Say, Pause, SetInputGain, SetOutputVolume, Goto, HangupAction)
    for state in script.states.values():
        assert state.line > 0
        if state.listen is None:
            assert state.actions and isinstance(state.actions[-1], Goto | HangupAction)
            continue
        # every spoken event is handled; keys (dtmf) only where a script asks for them
        assert set(state.handlers) == (set(EVENTS) - {"dtmf"}) | set(state.intents)
        for event, handlers in state.handlers.items():
            counts = [h.count for h in handlers]
            assert counts == sorted(counts) and len(set(counts)) == len(counts)
            for handler in handlers:
                assert isinstance(handler, Handler) and handler.event == event
                assert handler.line > 0
                assert all(isinstance(a, action_types) for a in handler.actions)
            if event in NO_PROGRESS_EVENTS:
                assert isinstance(handlers[-1].actions[-1], HangupAction)
            if event in state.intents:
                assert isinstance(handlers[-1].actions[-1], Goto | HangupAction)
    for text in script.prompts.values():
        assert "{" not in text and "}" not in text


def test_handler_for_picks_the_highest_count_not_above_the_counter() -> None:
    opening = outbound().states["opening"]
    assert opening.handler_for("low_volume", 0) is None
    assert [opening.handler_for("low_volume", n).count for n in range(1, 8)] == [
        1,
        2,
        3,
        4,
        5,
        5,
        5,
    ]
    assert opening.handler_for("noinput", 3).actions[-1] == HangupAction("no_answer")
    assert opening.handler_for("noinput", 99).count == 3


def test_handlers_are_sorted_by_count_whatever_the_file_order(tmp_path: Path) -> None:
    text = GOOD.replace(
        "        - {count: 1, do: [{say: hello}]}\n        - {count: 2, do: [{say: bye}, ",
        "        - {count: 2, do: [{say: bye}, {hangup: no_answer}]}\n"
        "        - {count: 1, do: [{say: hello}]}\n        - {count: 3, do: [{say: bye}, ",
    )
    state = load_script(write(tmp_path, text)).states["ask"]
    assert [h.count for h in state.handlers["noinput"]] == [1, 2, 3]
    assert state.handler_for("noinput", 2).actions == (Say("bye"), HangupAction("no_answer"))


# ---- placeholders ---------------------------------------------------------------------------


def test_placeholders_are_filled_and_caller_values_win(tmp_path: Path) -> None:
    script = load_script("outbound", {**OUTBOUND_VALUES, "org": "中国移动"})
    assert script.prompts["opening"].startswith("您好!我是中国移动1001号客户代表")
    text = HEAD.replace("  hello: 你好", "  hello: '{{你好}} {who}'") + ASK + DONE
    text = text.replace("start: ask", "start: ask\nplaceholders: {who: 张三}")
    assert load_script(write(tmp_path, text)).prompts["hello"] == "{你好} 张三"


def test_placeholder_values_by_option_name() -> None:
    script = load_script("outbound", {"agent-id": "2002", "number": "13900000000"})
    assert "2002号客户代表" in script.prompts["opening"]


def test_missing_placeholder_names_its_option() -> None:
    with pytest.raises(ScriptError) as info:
        load_script("outbound")
    message = str(info.value)
    path = PROMPTS_DIR / "outbound.yaml"
    line = line_of(path.read_text(encoding="utf-8"), "  opening: ")
    assert message.startswith(f"{path}:{line}: placeholder: "), message
    assert "{agent_id}" in message and "--agent-id" in message
    assert "{number}" in message and "--number" in message
    assert "\n" not in message
    with pytest.raises(ScriptError, match="--number") as info:
        load_script("outbound", {"agent_id": "7", "number": None})  # type: ignore[dict-item]
    assert "--agent-id" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["'{who'", "'who}'", "'{}'", "'{who:>3}'", "'{who!r}'", "'{a-b}'", "'{who.name}'"],
)
def test_malformed_braces(tmp_path: Path, text: str) -> None:
    script = HEAD.replace("  bye: 再见", f"  bye: {text}") + ASK + DONE
    check(tmp_path, script, "placeholder", "  bye: ", "prompt 'bye'")


# ---- yaml and schema ------------------------------------------------------------------------


def test_invalid_yaml(tmp_path: Path) -> None:
    # An unclosed flow list: the parser notices at the next key, on the following line.
    text = GOOD.replace("  bye: 再见", "  bye: [再见")
    check(tmp_path, text, "yaml", "defaults:", "expected ',' or ']'")
    text = "script: t\nstart: ask\n  prompts: x\n"
    check(tmp_path, text, "yaml", "  prompts: x", "mapping values are not allowed")


@pytest.mark.parametrize("text", ["- a list\n- of items\n", "just text\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    check(tmp_path, text, "yaml", text.splitlines()[0], "top level must be a mapping")


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path, "# nothing\n").startswith(f"{tmp_path / 't.yaml'}:1: yaml: ")
    with pytest.raises(ScriptError, match="no such script file"):
        load_script(tmp_path / "absent.yaml")
    with pytest.raises(ScriptError, match=r"bundled scripts: .*outbound"):
        load_script("no_such_script_name")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(GOOD.encode("utf-8").replace("再见".encode(), "再见".encode("gbk"), 1))
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert str(info.value).startswith(f"{path}:5: yaml: "), info.value


SCHEMA_CASES = {
    "unknown top key": (
        GOOD.replace("start: ask", "start: ask\nstrat: ask"),
        "strat:",
        ("unknown key 'strat'", "allowed: script, description, start"),
    ),
    "missing required keys": (
        GOOD.replace("start: ask\n", ""),
        "script: t",
        ("missing start",),
    ),
    "unknown state key": (
        GOOD.replace("    say: [bye]", "    sya: [bye]"),
        "sya:",
        ("unknown key 'sya'", "did you mean 'say'?", "allowed: say, listen, intents, unmatched"),
    ),
    "unknown listen key": (
        GOOD.replace("listen: {}", "listen: {timeout: 3}"),
        "listen: {timeout",
        ("unknown key 'timeout'", "noinput_timeout_s"),
    ),
    "wrong type of a time": (
        GOOD.replace("listen: {}", "listen: {noinput_timeout_s: 3s}"),
        "3s}",
        ("must be a number", "'3s'"),
    ),
    "wrong type of barge_in": (
        GOOD.replace("listen: {}", "listen: {barge_in: 2}"),
        "barge_in: 2",
        ("true or false",),
    ),
    "states not a mapping": (HEAD + "  - ask\n", "  - ask", ("states must be a mapping",)),
    "tagged value": (
        GOOD.replace("script: t", "script: !!python/name:os.system t"),
        "script: !!python",
        ("script must be non-empty text", "tagged"),
    ),
    "prompt is not text": (
        GOOD.replace("  bye: 再见", "  bye: [a, b]"),
        "  bye: [a",
        ("prompt 'bye' must be non-empty text",),
    ),
    "action with two keys": (
        GOOD.replace("{pause: 1}, {hangup", "{pause: 1, say: bye}, {hangup"),
        "{pause: 1, say: bye}",
        ("exactly one key", "got keys pause, say"),
    ),
    "unknown action": (
        GOOD.replace("{pause: 1}", "{wait: 1}"),
        "{wait: 1}",
        ("unknown action 'wait'", "allowed: say, pause, input_gain_db"),
    ),
    "action not a mapping": (
        GOOD.replace("{pause: 1}", "pause"),
        "do: [pause",
        ("exactly one key",),
    ),
    "unknown event": (
        GOOD.replace("      speech: [", "      silence: ["),
        "silence:",
        (
            "unknown event 'silence'",
            "allowed: " + ", ".join(EVENTS) + " (fixed events)",
            "no intents (state 'ask' declares none under intents:)",
        ),
    ),
    "count below 1": (
        GOOD.replace("{count: 1, do: [{say: hello}]}", "{count: 0, do: [{say: hello}]}"),
        "{count: 0",
        ("count must be a whole number of 1 or more", "'0'"),
    ),
    "duplicate count": (
        GOOD.replace("{count: 2, do: [{say: bye}", "{count: 1, do: [{say: bye}"),
        "{count: 1, do: [{say: bye}",
        ("two noinput handlers for count 1", f"line {line_of(GOOD, '{count: 1, do')}"),
    ),
    "handler without do": (
        GOOD.replace("{count: 1, do: [{say: hello}]}", "{count: 1}"),
        "{count: 1}",
        ("missing do",),
    ),
    "duplicate key": (
        GOOD.replace("    say: [bye]", "    say: [bye]\n    say: [hello]"),
        "say: [hello]",
        ("'say' given twice",),
    ),
    "state with listen and do": (
        GOOD.replace("    say: [bye]", "    say: [bye]\n    listen: {}"),
        "do: [{pause: 1}",
        ("both listen: and do:",),
    ),
    "state neither listens nor acts": (
        HEAD + ASK + "  done:\n    say: [bye]\n",
        "  done:",
        ("neither listens nor acts",),
    ),
    "handlers on a state that does not listen": (
        GOOD.replace("    say: [bye]", "    say: [bye]\n    on: {noinput: [{do: []}]}"),
        "on: {noinput",
        ("has on: handlers but does not listen",),
    ),
    "listen times missing after defaults": (
        GOOD.replace("  listen: {noinput_timeout_s: 3.0, ", "  listen: {"),
        "    listen: {}",
        ("listen needs noinput_timeout_s",),
    ),
    "bad hangup outcome": (
        GOOD.replace("{hangup: answered}", "{hangup: 'no answer'}"),
        "'no answer'",
        ("hangup outcome 'no answer'",),
    ),
}


@pytest.mark.parametrize("case", list(SCHEMA_CASES))
def test_schema(tmp_path: Path, case: str) -> None:
    text, needle, contains = SCHEMA_CASES[case]
    check(tmp_path, text, "schema", needle, *contains)


# ---- timeouts and gains ---------------------------------------------------------------------

TIMEOUT_CASES = {
    "noinput zero": ("listen: {}", "listen: {noinput_timeout_s: 0}", "noinput_timeout_s = 0 s"),
    "noinput above 60 s": ("listen: {}", "listen: {noinput_timeout_s: 61}", "at most 60 s"),
    "end of speech above 10 s": ("listen: {}", "listen: {end_of_speech_s: 10.5}", "at most 10 s"),
    "max speech above 120 s": ("listen: {}", "listen: {max_speech_s: 121}", "at most 120 s"),
    "negative pause": ("{pause: 1}", "{pause: -1}", "pause = -1 s"),
    "pause above 60 s": ("{pause: 1}", "{pause: 61}", "at most 60 s"),
    "pause not a number": ("{pause: 1}", "{pause: .nan}", "pause = nan s"),
    "max call above an hour": ("start: ask", "start: ask\nmax_call_s: 3601", "at most 3600 s"),
    "gain above 40 dB": ("{pause: 1}", "{input_gain_db: 41}", "input_gain_db = 41 dB"),
    "volume below -40 dB": ("{pause: 1}", "{output_volume_db: -40.5}", "-40..40 dB"),
}


@pytest.mark.parametrize("case", list(TIMEOUT_CASES))
def test_timeout(tmp_path: Path, case: str) -> None:
    old, new, contains = TIMEOUT_CASES[case]
    text = GOOD.replace(old, new)
    check(tmp_path, text, "timeout", new.splitlines()[-1], contains)


def test_defaults_are_checked_at_their_own_line(tmp_path: Path) -> None:
    text = GOOD.replace("end_of_speech_s: 0.8", "end_of_speech_s: 0")
    check(tmp_path, text, "timeout", "end_of_speech_s: 0,", "end_of_speech_s = 0 s")


def test_gains_within_limits_load(tmp_path: Path) -> None:
    text = GOOD.replace("{pause: 1}", "{input_gain_db: -40}, {output_volume_db: 40}, {pause: 60}")
    assert load_script(write(tmp_path, text)).states["done"].actions == (
        SetInputGain(-40.0),
        SetOutputVolume(40.0),
        Pause(60.0),
        HangupAction("answered"),
    )


# ---- names ----------------------------------------------------------------------------------


def test_unknown_prompt_in_say(tmp_path: Path) -> None:
    text = GOOD.replace("    say: [bye]", "    say: [bye, byee]")
    check(tmp_path, text, "unknown-prompt", "byee", "state 'done'", "'byee'", "did you mean 'bye'")


def test_unknown_prompt_in_an_action(tmp_path: Path) -> None:
    text = GOOD.replace("[{say: hello}]", "[{say: greeting}]")
    check(tmp_path, text, "unknown-prompt", "{say: greeting}", "noinput handler (count 1)")


def test_unknown_start_state(tmp_path: Path) -> None:
    check(tmp_path, GOOD.replace("start: ask", "start: begin"), "unknown-state", "start:", "begin")


def test_unknown_goto_state(tmp_path: Path) -> None:
    text = GOOD.replace("{goto: done}", "{goto: dnoe}")
    check(tmp_path, text, "unknown-state", "{goto: dnoe}", "'dnoe'", "did you mean 'done'")


def test_unreachable_state(tmp_path: Path) -> None:
    text = GOOD + "  orphan:\n    say: bye\n    do: [{hangup: answered}]\n"
    check(tmp_path, text, "unreachable-state", "  orphan:", "'orphan'", "start 'ask'")


# ---- exits ----------------------------------------------------------------------------------


def test_dead_actions_after_hangup_in_do(tmp_path: Path) -> None:
    text = GOOD.replace("{hangup: answered}]", "{hangup: answered},\n        {say: bye}]")
    check(tmp_path, text, "no-exit", "        {say: bye}]", "say 'bye' after hangup")


def test_dead_actions_after_goto_in_a_handler(tmp_path: Path) -> None:
    text = GOOD.replace("[{goto: done}]", "[{goto: done}, {say: bye}]")
    check(tmp_path, text, "no-exit", "{goto: done}, {say", "speech handler", "never runs")


@pytest.mark.parametrize("do", ["[{pause: 1}]", "[]"])
def test_do_must_end_in_goto_or_hangup(tmp_path: Path, do: str) -> None:
    text = GOOD.replace("do: [{pause: 1}, {hangup: answered}]", f"do: {do}")
    check(tmp_path, text, "no-exit", f"do: {do}", "must end in goto or hangup")


# ---- endless loops --------------------------------------------------------------------------


def test_voicexml_style_endless_reprompt_is_rejected(tmp_path: Path) -> None:
    # VoiceXML's default noinput handler re-prompts forever: so would this state.
    text = GOOD.replace(
        "        - {count: 2, do: [{say: bye}, {hangup: no_answer}]}\n",
        "        - {count: 2, do: [{say: bye}]}\n",
    )
    message = check(tmp_path, text, "endless-loop", "{count: 2", "state 'ask'", "noinput")
    assert f"line {line_of(text, '{count: 2')}" in message


def test_last_handler_of_another_no_progress_event_must_exit(tmp_path: Path) -> None:
    text = GOOD.replace(
        "      noinput:", "      noise: [{do: [{input_gain_db: -6}]}]\n      noinput:"
    )
    check(tmp_path, text, "endless-loop", "noise: [", "state 'ask'", "noise")


def test_listening_without_noinput_handler_is_rejected(tmp_path: Path) -> None:
    text = (
        HEAD
        + "  ask:\n    say: hello\n    listen: {}\n    on:\n      speech: [{do: [{goto: done}]}]\n"
    )
    check(tmp_path, text + DONE, "endless-loop", "listen: {}", "no noinput handler")
    bare = HEAD + "  ask:\n    say: hello\n    listen: {}\n"
    check(tmp_path, bare, "endless-loop", "listen: {}", "no noinput handler")


def test_unhandled_other_no_progress_events_are_ignored(tmp_path: Path) -> None:
    state = load_script(write(tmp_path, GOOD)).states["ask"]
    assert set(state.handlers) == {"speech", "noinput"}


def test_goto_cycle_on_noinput_without_hangup_is_rejected(tmp_path: Path) -> None:
    text = HEAD + (
        "  ask:\n"
        "    say: hello\n"
        "    listen: {}\n"
        "    on:\n"
        "      noinput: [{count: 1, do: [{say: hello}]}, {count: 2, do: [{goto: again}]}]\n"
        "  again:\n"
        "    say: bye\n"
        "    listen: {}\n"
        "    on:\n"
        "      low_volume: [{do: [{hangup: low_volume}]}]\n"
        "      noinput: [{do: [{goto: ask}]}]\n"
    )
    check(tmp_path, text, "endless-loop", "{goto: again}", "ask -> again -> ask")


def test_goto_cycle_through_a_state_that_does_not_listen_is_rejected(tmp_path: Path) -> None:
    text = HEAD + (
        "  ask:\n"
        "    say: hello\n"
        "    listen: {}\n"
        "    on:\n"
        "      noinput: [{do: [{goto: retry}]}]\n"
        "  retry:\n"
        "    say: bye\n"
        "    do: [{pause: 1}, {goto: ask}]\n"
    )
    message = check(tmp_path, text, "endless-loop", "{goto: retry}", "ask -> retry -> ask")
    assert f"lines {line_of(text, '{goto: retry}')}, {line_of(text, '{goto: ask}')}" in message


def test_goto_to_itself_on_noinput_is_rejected(tmp_path: Path) -> None:
    text = GOOD.replace("{say: bye}, {hangup: no_answer}", "{say: bye}, {goto: ask}")
    check(tmp_path, text, "endless-loop", "{goto: ask}", "ask -> ask")


def test_cycle_through_speech_handlers_is_accepted(tmp_path: Path) -> None:
    text = (
        HEAD
        + ASK
        + (
            "  done:\n"
            "    say: [bye]\n"
            "    listen: {}\n"
            "    on:\n"
            "      speech: [{do: [{goto: ask}]}]\n"
            "      noinput: [{do: [{hangup: answered}]}]\n"
        )
    )
    script = load_script(write(tmp_path, text))
    assert script.states["done"].handlers["speech"][0].actions == (Goto("ask"),)


def test_noinput_goto_to_a_state_that_hangs_up_is_accepted(tmp_path: Path) -> None:
    # noinput leads ask -> again, but again hangs up on noinput: no cycle without a hang-up.
    text = HEAD + (
        "  ask:\n"
        "    say: hello\n"
        "    listen: {}\n"
        "    on:\n"
        "      noinput: [{do: [{goto: again}]}]\n"
        "  again:\n"
        "    say: bye\n"
        "    listen: {}\n"
        "    on:\n"
        "      speech: [{do: [{goto: ask}]}]\n"
        "      noinput: [{do: [{say: bye}, {hangup: no_answer}]}]\n"
    )
    assert load_script(write(tmp_path, text)).states["again"].listen is not None


def test_valid_base_script_loads(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, GOOD))
    assert script.path == str(tmp_path / "t.yaml")
    assert script.max_call_s == 300.0
    assert list(script.states) == ["ask", "done"]
    assert script.states["ask"].say == ("hello",)
    assert script.states["ask"].line == line_of(GOOD, "  ask:")
    assert script.states["ask"].handlers["noinput"][1].line == line_of(GOOD, "{count: 2")


# ---- intents --------------------------------------------------------------------------------

ASK_INTENTS = """\
  ask:
    say: hello
    listen: {}
    intents:
      confirm: [是的 我 是, 是的]
      deny: [不是, 打错 了]
      cannot_hear: [听不清, 大声 点]
    unmatched: nomatch
    on:
      confirm: [{do: [{goto: done}]}]
      deny: [{do: [{say: bye}, {hangup: wrong_person}]}]
      cannot_hear:
        - {count: 1, do: [{output_volume_db: 6}, {say: hello}]}
        - {count: 2, do: [{say: bye}, {hangup: cannot_hear}]}
      noinput:
        - {count: 1, do: [{say: hello}]}
        - {count: 2, do: [{say: bye}, {hangup: no_answer}]}
"""
INTENTS = HEAD + ASK_INTENTS + DONE
INTENT_BLOCK = """\
    intents:
      confirm: [是的 我 是, 是的]
      deny: [不是, 打错 了]
      cannot_hear: [听不清, 大声 点]
"""


def test_intents_are_parsed_in_file_order(tmp_path: Path) -> None:
    text = INTENTS.replace("[是的 我 是, 是的]", "['  是的   我 是 ', 是的, yes]")
    state = load_script(write(tmp_path, text)).states["ask"]
    assert state.intents == {
        "confirm": ("是的 我 是", "是的", "yes"),
        "deny": ("不是", "打错 了"),
        "cannot_hear": ("听不清", "大声 点"),
    }
    assert state.unmatched == "nomatch"
    assert list(state.handlers) == ["confirm", "deny", "cannot_hear", "noinput"]
    [deny] = state.handlers["deny"]
    assert deny.event == "deny" and deny.line == line_of(text, "      deny: [{do")
    assert deny.actions == (Say("bye"), HangupAction("wrong_person"))
    assert state.handler_for("cannot_hear", 1).actions == (SetOutputVolume(6.0), Say("hello"))


def test_unmatched_defaults_to_nomatch_and_may_be_speech(tmp_path: Path) -> None:
    text = INTENTS.replace("    unmatched: nomatch\n", "")
    assert load_script(write(tmp_path, text)).states["ask"].unmatched == "nomatch"
    text = INTENTS.replace("unmatched: nomatch", "unmatched: speech")
    assert load_script(write(tmp_path, text)).states["ask"].unmatched == "speech"
    assert load_script(write(tmp_path, GOOD)).states["ask"].intents == {}


def test_intents_and_their_phrases_have_lines(tmp_path: Path) -> None:
    import yaml

    from ivr.script.parse import parse_document

    parsed = parse_document(yaml.compose(INTENTS, Loader=yaml.SafeLoader), "t.yaml")
    assert parsed.source.intents == {"ask": line_of(INTENTS, "    intents:")}
    assert parsed.source.phrases[("ask", "deny", 1)] == line_of(INTENTS, "打错 了")


INTENT_SCHEMA_CASES = {
    "intents on a state that does not listen": (
        INTENTS.replace("    say: [bye]", "    say: [bye]\n    intents: {deny: [不是]}"),
        "intents: {deny",
        ("state 'done' has intents: but does not listen",),
    ),
    "unmatched on a state that does not listen": (
        INTENTS.replace("    say: [bye]", "    say: [bye]\n    unmatched: speech"),
        "unmatched: speech",
        ("state 'done' has unmatched: but does not listen",),
    ),
    "unmatched without intents": (
        GOOD.replace("    listen: {}", "    listen: {}\n    unmatched: speech"),
        "unmatched: speech",
        ("has unmatched: but no intents:",),
    ),
    "unmatched neither nomatch nor speech": (
        INTENTS.replace("unmatched: nomatch", "unmatched: ignore"),
        "unmatched: ignore",
        ("unmatched must be nomatch (ask again) or speech", "text 'ignore'"),
    ),
    "intents not a mapping": (
        INTENTS.replace(INTENT_BLOCK, "    intents: [是的]\n"),
        "intents: [是的]",
        ("state 'ask': intents must be a mapping, got a list",),
    ),
    "no intents": (
        INTENTS.replace(INTENT_BLOCK, "    intents: {}\n"),
        "intents: {}",
        ("must hold at least one intent", "an empty mapping"),
    ),
    "intent name not an identifier": (
        INTENTS.replace("      cannot_hear: [听不清", "      cannot-hear: [听不清"),
        "cannot-hear: [",
        ("intent name 'cannot-hear' must be an identifier",),
    ),
    "intent name in Chinese": (
        INTENTS.replace("      cannot_hear: [听不清", "      听不清: [听不清"),
        "听不清: [",
        ("intent name '听不清' must be an identifier",),
    ),
    "intent name clashes with a fixed event": (
        INTENTS.replace("      confirm: [是的", "      speech: [是的"),
        "speech: [是的",
        ("intent name 'speech' clashes with the fixed event 'speech'", "noinput, speech"),
    ),
    "empty phrase list": (
        INTENTS.replace("deny: [不是, 打错 了]", "deny: []"),
        "deny: []",
        ("deny must be a non-empty list of phrases", "got an empty list"),
    ),
    "no phrase list": (
        INTENTS.replace("deny: [不是, 打错 了]", "deny:"),
        "      deny:",
        ("deny must be a non-empty list of phrases", "got nothing"),
    ),
    "phrase list is text": (
        INTENTS.replace("deny: [不是, 打错 了]", "deny: 不是"),
        "deny: 不是",
        ("deny must be a non-empty list of phrases", "got text '不是'"),
    ),
    "empty phrase": (
        INTENTS.replace("deny: [不是, 打错 了]", "deny: [不是, '']"),
        "deny: [不是, '']",
        ("deny: phrase 2 is empty",),
    ),
    "blank phrase": (
        INTENTS.replace("deny: [不是, 打错 了]", "deny:\n        - 不是\n        - '   '"),
        "- '   '",
        ("deny: phrase 2 is empty",),
    ),
    "null phrase": (
        INTENTS.replace("deny: [不是, 打错 了]", "deny: [~, 不是]"),
        "deny: [~",
        ("deny: phrase 1 is empty",),
    ),
    "phrase not text": (
        INTENTS.replace("deny: [不是, 打错 了]", "deny: [[不是]]"),
        "deny: [[",
        ("deny: phrase 1 must be text", "got a list"),
    ),
    "same phrase under two intents": (
        INTENTS.replace("[听不清, 大声 点]", "[听不清, 不是]"),
        "[听不清, 不是]",
        (
            "phrase '不是' is under both 'deny' "
            f"(line {line_of(INTENTS, 'deny: [不是')}) and 'cannot_hear'",
        ),
    ),
    "same phrase under two intents split into other words": (
        INTENTS.replace("[听不清, 大声 点]", "[听不清, 打 错了]"),
        "[听不清, 打 错了]",
        ("phrase '打 错了' is under both 'deny' (as '打错 了'",),
    ),
    "same phrase twice under one intent": (
        INTENTS.replace("[听不清, 大声 点]", "\n        - 听不清\n        - '听不清 '"),
        "- '听不清 '",
        ("cannot_hear: phrase '听不清' given twice", f"line {line_of(INTENTS, '听不清') + 1}"),
    ),
    "handler for an undeclared intent": (
        INTENTS.replace("      deny: [{do:", "      denied: [{do:"),
        "denied: [{do",
        (
            "unknown event 'denied' (did you mean 'deny'?)",
            "allowed: " + ", ".join(EVENTS) + " (fixed events)",
            "the intents confirm, deny, cannot_hear (declared by state 'ask')",
        ),
    ),
    "handler for another state's intent": (
        HEAD
        + ASK_INTENTS.replace("[{do: [{goto: done}]}]", "[{do: [{goto: again}]}]")
        + (
            "  again:\n"
            "    say: hello\n"
            "    listen: {}\n"
            "    on:\n"
            "      noinput: [{do: [{hangup: no_answer}]}]\n"
            "      confirm: [{do: [{goto: done}]}]\n"
        )
        + DONE,
        "      confirm: [{do: [{goto: done",
        ("state 'again': on: unknown event 'confirm'", "no intents (state 'again' declares"),
    ),
}


@pytest.mark.parametrize("case", list(INTENT_SCHEMA_CASES))
def test_intent_schema(tmp_path: Path, case: str) -> None:
    text, needle, contains = INTENT_SCHEMA_CASES[case]
    check(tmp_path, text, "schema", needle, *contains)


def test_last_intent_handler_must_exit(tmp_path: Path) -> None:
    # a callee can say 听不清 forever: the last cannot_hear handler must hang up or leave
    text = INTENTS.replace(
        "{count: 2, do: [{say: bye}, {hangup: cannot_hear}]}",
        "{count: 2, do: [{output_volume_db: 12}, {say: hello}]}",
    )
    message = check(
        tmp_path,
        text,
        "endless-loop",
        "{count: 2, do: [{output_volume_db: 12}",
        "state 'ask': its last cannot_hear handler (count 2",
        "a callee who keeps saying the intent cannot_hear (e.g. '听不清')",
    )
    assert f"line {line_of(text, '{output_volume_db: 12}')}" in message


def test_unhandled_intent_is_no_loop(tmp_path: Path) -> None:
    text = INTENTS.replace("      deny: [{do: [{say: bye}, {hangup: wrong_person}]}]\n", "")
    state = load_script(write(tmp_path, text)).states["ask"]
    assert "deny" in state.intents and "deny" not in state.handlers


def test_goto_cycle_through_intent_handlers_is_rejected(tmp_path: Path) -> None:
    text = HEAD + (
        "  ask:\n"
        "    say: hello\n"
        "    listen: {}\n"
        "    intents: {cannot_hear: [听不清]}\n"
        "    on:\n"
        "      cannot_hear: [{do: [{output_volume_db: 6}, {goto: again}]}]\n"
        "      noinput: [{do: [{hangup: no_answer}]}]\n"
        "  again:\n"
        "    say: bye\n"
        "    listen: {}\n"
        "    intents: {pardon: [你 说 什么]}\n"
        "    on:\n"
        "      pardon: [{do: [{goto: ask}]}]\n"
        "      noinput: [{do: [{hangup: no_answer}]}]\n"
    )
    message = check(tmp_path, text, "endless-loop", "{goto: again}", "ask -> again -> ask")
    assert f"lines {line_of(text, '{goto: again}')}, {line_of(text, '{goto: ask}')}" in message
    assert "an intent or do:" in message


def test_intent_goto_to_itself_is_rejected(tmp_path: Path) -> None:
    text = INTENTS.replace("{say: bye}, {hangup: cannot_hear}", "{goto: ask}")
    check(tmp_path, text, "endless-loop", "{goto: ask}", "ask -> ask")


def test_intent_goto_back_through_speech_is_accepted(tmp_path: Path) -> None:
    # confirm leads ask -> done without progress, but done -> ask is speech: an answer
    text = (
        HEAD
        + ASK_INTENTS
        + (
            "  done:\n"
            "    say: [bye]\n"
            "    listen: {}\n"
            "    on:\n"
            "      speech: [{do: [{goto: ask}]}]\n"
            "      noinput: [{do: [{hangup: answered}]}]\n"
        )
    )
    script = load_script(write(tmp_path, text))
    assert script.states["ask"].handlers["confirm"][0].actions == (Goto("done"),)

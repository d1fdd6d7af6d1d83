"""Barge-in: the callee may interrupt a prompt, our own echo may not."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ivr.call.replay import replay_file
from ivr.script import load_script
from ivr.tts import PromptCache, Synthesizer

SCRIPT = """\
script: barge
start: ask
prompts:
  ask: "您好!我是温州气象局客户代表,您在国内接听我的电话是免费的。"
  bye: "好的,谢谢您的接听,再见!"
defaults:
  listen: {noinput_timeout_s: 3.0, end_of_speech_s: 0.8, max_speech_s: 10.0, barge_in: true}
states:
  ask:
    say: [ask]
    listen: {}
    "on":
      speech: [{count: 1, do: [{goto: done}]}]
      noinput:
        - {count: 1, do: [{say: bye}, {pause: 1}, {hangup: no_answer}]}
  done:
    say: [bye]
    do: [{pause: 1}, {hangup: answered}]
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("barge")
    (folder / "barge.yaml").write_text(SCRIPT, encoding="utf-8")
    script = load_script(folder / "barge.yaml")
    cache = PromptCache(folder / "prompts")
    prompt = cache.get(script.prompts["ask"]).samples
    return folder, script, cache, prompt


def callee(folder, name, prompt, speech_at_s=None):
    """The microphone: our prompt's echo 20 dB down, maybe the callee speaking over it."""
    audio = np.zeros(prompt.size + 16000 * 8)
    audio[: prompt.size] += prompt * 0.1
    if speech_at_s is not None:
        speech = Synthesizer().render("是的,我是").astype(np.float64)
        start = int(speech_at_s * 16000)
        audio[start : start + speech.size] += speech
    path = folder / f"{name}.wav"
    sf.write(path, np.clip(np.rint(audio), -32768, 32767).astype(np.int16), 16000)
    return path


def test_our_own_echo_does_not_interrupt_the_prompt(setup):
    folder, script, cache, prompt = setup
    result = replay_file(callee(folder, "echo", prompt), script, cache)
    events = [r.event for r in result.timeline]
    assert "echo_ignored" in events
    assert "barge_in" not in events
    finished = next(r for r in result.timeline if r.event == "prompt_finished")
    assert finished.frame == prompt.size // 320  # the prompt played to its end
    assert result.outcome == "no_answer"


def test_callee_speaking_over_the_prompt_interrupts_it(setup):
    folder, script, cache, prompt = setup
    result = replay_file(callee(folder, "barge", prompt, speech_at_s=1.5), script, cache)
    barge = next(r for r in result.timeline if r.event == "barge_in")
    assert abs(barge.t - 1.5) <= 0.3  # decided within the onset window
    assert result.outcome == "answered"
    assert result.prompts == ["ask", "bye"]

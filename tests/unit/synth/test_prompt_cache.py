"""The prompt cache: keys, whole-frame padding, hits without synthesis, repair, errors, CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import typer
from typer.testing import CliRunner

from ivr.errors import IvrError
from ivr.privacy import mask_number
from ivr.tts import PromptAudio, PromptCache, VoiceSettings, synthesizer
from ivr.tts.prompt_cache import default_directory

HELLO = "您好"
BYE = "再见"


class CountingCache(PromptCache):
    """A cache that counts its syntheses; `fake` renders a text-dependent tone, no espeak-ng."""

    def __init__(self, *args, fake: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.renders: list[str] = []
        self.fake = fake

    def _render(self, text: str) -> np.ndarray:
        self.renders.append(text)
        if self.fake:
            return fake_samples(text)
        return super()._render(text)


def fake_samples(text: str) -> np.ndarray:
    """1000 + 37 x len(text) samples (never a whole number of frames for short texts)."""
    n = 1000 + 37 * len(text)
    return np.full(n, 1000 + len(text), dtype=np.int16)


@pytest.fixture
def fresh_synth_memory(monkeypatch):
    """Empty the synthesizer's in-memory cache, so a render really runs espeak-ng."""
    monkeypatch.setattr(synthesizer, "_CACHE", {})


def test_miss_renders_and_stores_then_hit_reads_without_synthesis(tmp_path, fresh_synth_memory):
    first = CountingCache(tmp_path)
    assert not first.contains(HELLO)
    audio, cached = first.lookup(HELLO)
    assert not cached and first.renders == [HELLO]
    path = first.path_for(HELLO)
    assert path == tmp_path / f"{audio.key}.wav"
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.frames == audio.frames * 320
    mtime = path.stat().st_mtime_ns

    assert first.get(HELLO) is audio  # from memory
    second = CountingCache(tmp_path)
    assert second.contains(HELLO)
    again, cached = second.lookup(HELLO)
    assert cached and second.renders == []
    assert path.stat().st_mtime_ns == mtime
    assert again.key == audio.key and again.frames == audio.frames
    np.testing.assert_array_equal(again.samples, audio.samples)


def test_same_text_and_settings_give_identical_samples_across_caches(
    tmp_path, monkeypatch, fresh_synth_memory
):
    a = PromptCache(tmp_path / "a").get(HELLO)
    monkeypatch.setattr(synthesizer, "_CACHE", {})
    b = PromptCache(tmp_path / "b").get(HELLO)
    assert a.key == b.key
    np.testing.assert_array_equal(a.samples, b.samples)
    assert (tmp_path / "a" / f"{a.key}.wav").read_bytes() == (
        tmp_path / "b" / f"{b.key}.wav"
    ).read_bytes()


def test_samples_are_padded_with_zeros_to_whole_frames(tmp_path):
    raw = synthesizer.Synthesizer().render(BYE)
    audio = PromptCache(tmp_path).get(BYE)
    assert audio.frames == math.ceil(len(raw) / 320)
    assert len(audio.samples) == audio.frames * 320
    assert audio.samples.dtype == np.int16 and not audio.samples.flags.writeable
    np.testing.assert_array_equal(audio.samples[: len(raw)], raw)
    assert not audio.samples[len(raw) :].any()
    assert audio.duration_s == pytest.approx(audio.frames * 0.02)

    fake = PromptAudio("x", np.ones(1000, np.int16), key="k")
    assert fake.frames == 4 and len(fake.samples) == 1280
    assert fake.samples[999] == 1 and not fake.samples[1000:].any()
    assert fake.duration_s == pytest.approx(0.08)
    exact = PromptAudio("x", np.ones(640, np.int16), key="k")
    assert exact.frames == 2 and exact.samples.all()
    with pytest.raises(ValueError):
        exact.samples[0] = 0


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda path: path.write_bytes(b"RIFF not really a wave file"),
        lambda path: sf.write(path, np.zeros(3200, np.int16), 8000, subtype="PCM_16"),
        lambda path: sf.write(path, np.zeros((3200, 2), np.int16), 16000, subtype="PCM_16"),
        lambda path: sf.write(path, np.zeros(1000, np.int16), 16000, subtype="PCM_16"),
        lambda path: path.write_bytes(b""),
    ],
    ids=["garbage", "8kHz", "stereo", "partial-frame", "empty"],
)
def test_corrupt_cache_file_is_rendered_again_and_replaced(tmp_path, corrupt):
    cache = CountingCache(tmp_path, fake=True)
    path = cache.path_for(HELLO)
    corrupt(path)
    audio, cached = cache.lookup(HELLO)
    assert not cached and cache.renders == [HELLO]
    data, rate = sf.read(path, dtype="int16")
    assert rate == 16000 and len(data) == audio.frames * 320
    again = CountingCache(tmp_path, fake=True)
    assert again.get(HELLO).frames == audio.frames and again.renders == []


def test_unwritable_directory_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    directory = blocker / "prompts"
    cache = CountingCache(directory, fake=True)
    with pytest.raises(IvrError) as err:
        cache.get(HELLO)
    message = str(err.value)
    assert str(directory) in message and "\n" not in message


def test_key_depends_on_text_voice_rate_and_volume(tmp_path):
    def key(text=HELLO, **settings):
        return PromptCache(tmp_path, VoiceSettings(**settings)).key_for(text)

    base = key()
    assert len(base) == 64 and int(base, 16) >= 0
    assert key() == base and key(volume=1) == base
    variants = [key(BYE), key(HELLO + " "), key(voice="en"), key(rate=176), key(volume=0.5)]
    assert len({base, *variants}) == 1 + len(variants)
    cache = PromptCache(tmp_path)
    assert cache.path_for(HELLO).name == f"{base}.wav"


def test_render_all_and_memory(tmp_path):
    cache = CountingCache(tmp_path, fake=True)
    texts = {"greeting": HELLO, "closing": BYE, "again": HELLO}
    audio = cache.render_all(texts)
    assert list(audio) == ["greeting", "closing", "again"]
    assert audio["greeting"] is audio["again"]
    assert sorted(cache.renders) == sorted([HELLO, BYE])
    assert audio["closing"].frames == math.ceil((1000 + 37 * 2) / 320)
    assert {p.suffix for p in tmp_path.iterdir()} == {".wav", ".json"}
    assert len(list(tmp_path.glob("*.wav"))) == 2


def test_text_and_settings_are_checked(tmp_path):
    with pytest.raises(ValueError, match="text"):
        PromptCache(tmp_path).get("  ")
    with pytest.raises(ValueError, match=r"rate must be in 80\.\.450"):
        VoiceSettings(rate=500)
    with pytest.raises(ValueError, match="rate must be a whole number"):
        VoiceSettings(rate=175.0)
    with pytest.raises(ValueError, match=r"volume must be in 0\.0\.\.1\.0"):
        VoiceSettings(volume=1.5)
    with pytest.raises(ValueError, match="voice"):
        VoiceSettings(voice="")
    assert VoiceSettings(volume=1).volume == 1.0


def test_default_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path))
    assert default_directory() == tmp_path / "prompts"
    assert PromptCache().directory == tmp_path / "prompts"
    monkeypatch.delenv("IVR_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_directory() == tmp_path / "home" / ".cache" / "ivr" / "prompts"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("13812345678", "138****5678"),
        ("请拨打13812345678,谢谢", "请拨打138****5678,谢谢"),
        ("138-1234-5678", "138-****-5678"),
        ("138 1234 5678", "138 **** 5678"),
        ("8613812345678", "861******5678"),
        ("12345678", "****5678"),
        ("1234567", "****567"),
        ("工号123456为您服务", "工号123456为您服务"),
        ("1381234 和 5678", "****234 和 5678"),
        ("LONGGREETING-1520-1500", "LONGGREETING-1520-1500"),  # an AMD cause's figures
        ("row-13812345678", "row-138****5678"),
        ("", ""),
    ],
)
def test_mask_number(text, shown):
    assert mask_number(text) == shown


# The CLI, over a script written here; needs the script loader.

SCRIPT = """\
script: tiny
start: greet
prompts:
  greet: "您好,这里是{org},工号{agent_id}"
  confirm: "请问是{number}吗"
states:
  greet:
    say: [greet, confirm]
    do:
      - hangup: answered
"""


def cli_app() -> typer.Typer:
    from ivr.cli.prompts import register

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """ivr"""

    register(app)
    return app


def test_cli_renders_script_prompts_and_masks_number(tmp_path):
    script = tmp_path / "tiny.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    cache_dir = tmp_path / "cache"
    args = ["prompts", "render", "--script", str(script), "--cache-dir", str(cache_dir)]
    values = ["--org", "测试", "--agent-id", "007", "--number", "13812345678"]
    runner = CliRunner()
    result = runner.invoke(cli_app(), args + values)
    assert result.exit_code == 0, result.output
    assert "13812345678" not in result.output and "138****5678" in result.output
    assert "2 prompts: 2 rendered, 0 already cached" in result.output
    assert "greet" in result.output and "confirm" in result.output
    assert len(list(cache_dir.glob("*.wav"))) == 2
    for path in cache_dir.glob("*.json"):
        assert "13812345678" not in path.read_text(encoding="utf-8")

    again = runner.invoke(cli_app(), args + values)
    assert again.exit_code == 0, again.output
    assert "2 prompts: 0 rendered, 2 already cached" in again.output

    missing = runner.invoke(cli_app(), args)
    assert missing.exit_code != 0
    assert missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1

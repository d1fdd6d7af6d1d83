"""The voices of `ivr synth --audit`: clips of speech with known edges, for either side.

An agent reads the service standard's own sentences (the bundled inbound script's prompts,
seed 002 接听规范用语, and seed 000's hold phrases) with espeak-ng Mandarin
(`cmn-latn-pinyin`, the project's Synthesizer), or speaks as a real person: the Debian
pocketsphinx recordings (`human:cards/*.wav`, `human:librivox/*.wav`, English read speech
1.1-7.1 s long), which are also the customer's voices.

Each clip is cut to the longest stretch of speech the front end (`ivr.detect.analyze`, the
detectors `ivr audit` uses, default settings) finds in it as a call carries it (at -26 dBFS
over a -70 dBFS floor, through the telephone band at 8 kHz), so a clip placed in a call is one
speech segment whose start and end are known within a frame or two. Clips are kept as 16 kHz
float samples scaled to RMS 1 in the telephone band (300-3400 Hz, where the recording keeps
them); `at_level` sets their level (dBFS: that RMS over the clip, 0 dBFS = a full-scale
square wave) and `faster` time-compresses them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import soxr

from ivr.audio.format import FRAME_SAMPLES, FULL_SCALE, SAMPLE_RATE
from ivr.synth.channel import TELEPHONE_RATE, band_pass, encode
from ivr.synth.levels import to_int16
from ivr.synth.speech import HUMAN_PHRASES, load_phrase

AGENT_SENTENCES: dict[str, str] = {
    "greeting": "您好请问有什么可以帮助您",
    "hold": "请您稍等片刻我马上为您查询",
    "update": "正在为您查询请您再稍等一下",
    "thanks": "感谢您的来电再见",
    "repeat": "麻烦您将刚才反映的问题再复述一遍好吗",
    "no_sound": "对不起您的电话没有声音请您换一部电话再打来再见",
    "plain_greeting": "早上好有什么事",
    "plain_bye": "就这样吧再见",
    "forbidden": "你不明白吗我不是跟你说得很清楚了吗",
}
"""What the agent reads with espeak-ng: the inbound script's prompts (greeting,
repeat_please, closing_no_sound, thanks_goodbye; seed 002) and seed 000 三、8 (请您稍等片刻;
每隔30秒告知客户进展); a plain greeting and goodbye without a politeness word; and two of seed
001's 服务禁语 (你不明白; 我不是跟你说得很清楚了吗). Written without punctuation so that
each is read as one stretch."""

SENTENCE_SAYS: dict[str, frozenset[str]] = {
    "greeting": frozenset({"greeting", "polite"}),
    "hold": frozenset({"polite"}),
    "update": frozenset({"polite"}),
    "thanks": frozenset({"closing", "polite"}),
    "repeat": frozenset({"polite"}),
    "no_sound": frozenset({"closing", "polite"}),
    "plain_greeting": frozenset({"greeting"}),
    "plain_bye": frozenset({"closing"}),
    "forbidden": frozenset({"forbidden"}),
}
"""What each of AGENT_SENTENCES holds by the standard, read by hand: a greeting (您好, 早上好),
a closing (再见, 感谢您的来电), a politeness word (请, 您: seed 003 一.3), a forbidden phrase
(seed 001). The back-channels and the recorded voices (English) hold none."""

BACKCHANNELS = ("好的", "是的")
"""Short agent words said over the customer (seed 003: 是的,对的): back-channels."""

ANALYSIS_DBFS = -26.0
"""The level a clip's edges are found at (dBFS in the telephone band: the nominal level)."""

FLOOR_DBFS = -70.0
"""The faint noise each clip is analysed over (dBFS), as in a call of the corpus."""

PAD_S = 0.5
"""Silence around a clip while it is analysed (s)."""

BLOCK_FRAMES = 50
"""20 ms frames per block handed to the front end (as a file source reads them)."""


@dataclass(frozen=True)
class Clip:
    """One stretch of speech: 16 kHz float samples at RMS 1, what it says and its source."""

    name: str
    """The sentence's key (`tts:greeting`) or the recording's phrase (`human:...`)."""
    text: str | None
    """What is said (the sentence, or the recording's transcription; None when unknown)."""
    source: str
    """`tts` or `human`."""
    samples: np.ndarray

    @property
    def says(self) -> frozenset[str]:
        """What it holds by the standard (SENTENCE_SAYS; nothing for a recorded voice)."""
        key = self.name.removeprefix("tts:").split("@")[0] if self.source == "tts" else ""
        return SENTENCE_SAYS.get(key, frozenset())

    @property
    def seconds(self) -> float:
        """Length (s)."""
        return self.samples.size / SAMPLE_RATE


class _ArraySource:
    """Frames of 16 kHz int16 samples held in memory, as ivr.detect.analyze reads a file."""

    name = "clip"

    def __init__(self, samples: np.ndarray) -> None:
        frames = samples.size // FRAME_SAMPLES
        self._frames = samples[: frames * FRAME_SAMPLES].reshape(frames, FRAME_SAMPLES)

    def blocks(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self._frames), BLOCK_FRAMES):
            yield self._frames[start : start + BLOCK_FRAMES]


def band_rms(samples: np.ndarray) -> float:
    """RMS of `samples` (16 kHz) in the telephone band (ivr.synth.channel.band_pass)."""
    return float(np.sqrt(np.mean(band_pass(samples) ** 2)))


def _longest_speech(samples: np.ndarray, seed: int) -> np.ndarray:
    """The longest speech segment the front end finds in `samples` (int16 units, 16 kHz) as
    a call of the corpus carries it: at ANALYSIS_DBFS, between PAD_S of silence over a
    FLOOR_DBFS floor, through the telephone channel (band-pass, 8 kHz); scaled to RMS 1 in
    the telephone band."""
    from ivr.detect import analyze

    pad = np.zeros(round(PAD_S * SAMPLE_RATE))
    x = np.concatenate([pad, samples.astype(np.float64), pad])
    x = x / band_rms(x) * 10 ** (ANALYSIS_DBFS / 20) * FULL_SCALE
    rng = np.random.default_rng(seed)
    x = x + rng.normal(0.0, 10 ** (FLOOR_DBFS / 20) * FULL_SCALE, x.size)
    line = soxr.resample(encode(to_int16(x), "telephone"), TELEPHONE_RATE, SAMPLE_RATE)
    segments = analyze(_ArraySource(to_int16(line))).segments  # type: ignore[arg-type]
    if not segments:
        raise ValueError("no speech found in a clip")
    longest = max(segments, key=lambda s: s.end - s.start)
    clip = x[longest.start * FRAME_SAMPLES : longest.end * FRAME_SAMPLES]
    clip = clip - clip.mean()
    return clip / band_rms(clip)


@functools.cache
def tts_clip(key: str) -> Clip:
    """AGENT_SENTENCES[key] (or a BACKCHANNELS word) read by espeak-ng Mandarin, cut to its
    longest stretch of speech."""
    text = AGENT_SENTENCES.get(key, key)
    samples = load_phrase(text).samples
    return Clip(f"tts:{key}", text, "tts", _frozen(_longest_speech(samples, 1)))


@functools.cache
def human_clip(index: int) -> Clip:
    """Recording HUMAN_PHRASES[index] cut to its longest stretch of speech (RecordingsMissing
    Error when pocketsphinx-testdata is not installed)."""
    phrase = load_phrase(HUMAN_PHRASES[index])
    samples = _longest_speech(phrase.samples, 2 + index)
    return Clip(phrase.phrase, phrase.text, "human", _frozen(samples))


def human_clips(min_s: float = 0.0, max_s: float = 60.0) -> list[Clip]:
    """The recordings' clips from `min_s` to `max_s` long (s), in HUMAN_PHRASES order."""
    clips = [human_clip(i) for i in range(len(HUMAN_PHRASES))]
    return [c for c in clips if min_s <= c.seconds <= max_s]


def faster(clip: Clip, speed: float, win: int = 640, hop: int = 160) -> Clip:
    """`clip` spoken `speed` times faster, its pitch kept: overlap-add of 40 ms Hann windows
    (`win` samples) read `speed` x `hop` samples apart and written `hop` apart."""
    out = time_compressed(clip.samples, speed, win, hop)
    out = out / band_rms(out)
    return Clip(f"{clip.name}@{speed:.2f}x", clip.text, clip.source, _frozen(out))


def time_compressed(x: np.ndarray, speed: float, win: int = 640, hop: int = 160) -> np.ndarray:
    """Samples `x` spoken `speed` times faster (1.0..4.0), pitch kept: overlap-add of Hann
    windows of `win` samples read `speed` x `hop` samples apart and written `hop` apart (40 ms
    and 10 ms at 16 kHz by default); float64, at the level the overlap gives (not normalized)."""
    if not 1.0 <= speed <= 4.0:
        raise ValueError(f"speed must be in 1.0..4.0, got {speed!r}")
    window = np.hanning(win)
    step = round(hop * speed)
    count = (x.size - win) // step
    out = np.zeros(count * hop + win)
    weight = np.zeros_like(out)
    for i in range(count):
        out[i * hop : i * hop + win] += x[i * step : i * step + win] * window
        weight[i * hop : i * hop + win] += window
    out /= np.maximum(weight, 1e-3)
    return out


def at_level(clip: Clip, dbfs: float) -> np.ndarray:
    """`clip`'s samples (int16 units) at `dbfs` (RMS over the clip in the telephone band)."""
    return clip.samples * (10 ** (dbfs / 20) * FULL_SCALE)


def _frozen(samples: np.ndarray) -> np.ndarray:
    samples.flags.writeable = False
    return samples

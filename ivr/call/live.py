"""A live call: the same engine and session as replay, on the microphone and the speaker.

The audio clock is the number of 20 ms frames the microphone has delivered: timers run in
that time, as in replay. A prompt's playout ends when the output stream has taken its last
sample (not when it was handed over); that moment, a wall-clock time in the output callback, is
put on the microphone's clock through the arrival times of its blocks. Half-duplex by default:
while a prompt plays the microphone does not count as the callee (the laptop hears itself).

Ctrl-C ends the call with outcome `aborted`, a device that stops or fails with `device_error`;
either way the stereo recording and the timeline are written. Per prompt, the timeline records
the start latency (from the frame its timer fired to its first sample leaving the speaker) and
the processing delay (from that frame's arrival to the engine's decision), both in ms; input
overflows and output underruns are counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import soundfile as sf

from ivr.audio.devices import LiveStreams
from ivr.audio.format import FRAME_S, FRAME_SAMPLES
from ivr.call.recognition import AsrBackend
from ivr.call.replay import PromptSource, ReplaySession
from ivr.detect.frontend import Detectors
from ivr.detect.settings import DetectorSettings
from ivr.engine import EngineAction, PlayPrompt, StopPrompt
from ivr.errors import DeviceError
from ivr.script.model import Script

SILENT_DEVICE_S = 2.0
"""A microphone that delivers nothing for this long (s) has failed."""

Observer = Callable[["LiveSession"], None]
"""Called on the main thread after every block, for a live view."""


class LiveSession(ReplaySession):
    """One live call through `streams`."""

    def __init__(
        self,
        streams: LiveStreams,
        script: Script,
        prompts: PromptSource,
        settings: DetectorSettings | None = None,
        asr: AsrBackend | None = None,
        observer: Observer | None = None,
        name: str = "live call",
    ) -> None:
        super().__init__(None, script, prompts, settings, asr)  # type: ignore[arg-type]
        self.streams = streams
        self.observer = observer
        self._name = name
        self._arrival = (0, time.monotonic())  # (frames delivered, wall time of that moment)
        self._prompt: dict[str, Any] | None = None  # the prompt being played out
        self.level_dbfs = -100.0
        """Level of the last frame heard (dBFS), for the live view."""
        self.latencies_ms: list[float] = []
        """Start latency of every prompt (ms)."""
        self.delays_ms: list[float] = []
        """Processing delay of every timer-started prompt (ms)."""

    @property
    def name(self) -> str:
        return self._name

    # --- the microphone's clock -----------------------------------------------------------

    def _frame_at(self, wall: float) -> int:
        """The microphone frame being captured at monotonic time `wall`."""
        frames, at = self._arrival
        return max(0, frames + round((wall - at) / FRAME_S))

    def _blocks(self) -> Iterator[np.ndarray]:
        mic = self.streams.mic
        while True:
            try:
                samples, arrived = mic.queue.get(timeout=SILENT_DEVICE_S)
            except Exception:  # queue.Empty: the device went quiet
                raise DeviceError(
                    f"the microphone delivered no audio for {SILENT_DEVICE_S:g} s"
                ) from None
            block = samples[: samples.size // FRAME_SAMPLES * FRAME_SAMPLES]
            block = block.reshape(-1, FRAME_SAMPLES)
            self._arrival = (self.frames + block.shape[0], arrived)
            self._poll_player()
            yield block

    # --- the speaker ----------------------------------------------------------------------

    def _act(self, actions: list[EngineAction]) -> None:
        for action in actions:
            if isinstance(action, PlayPrompt):
                audio = self.prompts.get(action.text)
                gain = np.float32(10 ** (action.volume_db / 20))
                samples = np.clip(np.rint(audio.samples * gain), -32768, 32767).astype(np.int16)
                now = time.monotonic()
                heard, arrived = self._arrival  # the block being processed ended at `heard`
                self._prompt = {
                    "action": action,
                    "samples": samples,
                    "issued": now,
                    "due_wall": arrived - (heard - action.frame) * FRAME_S,
                    "started": False,
                }
                self.streams.player.play(samples)
            elif isinstance(action, StopPrompt):
                self.streams.player.stop()

    def _poll_player(self) -> None:
        """Notice the current prompt's first and last samples leaving the speaker."""
        prompt, player = self._prompt, self.streams.player
        if prompt is None:
            return
        latency = self.streams.output_latency_s
        if not prompt["started"] and player.started is not None:
            prompt["started"] = True
            out_wall = player.started[1] + latency
            start = max(self._frame_at(out_wall), prompt["action"].frame)
            self._mixer.play(start, prompt["samples"], 0.0)
            start_ms = (out_wall - prompt["due_wall"]) * 1000
            delay_ms = (prompt["issued"] - prompt["due_wall"]) * 1000
            self.latencies_ms.append(start_ms)
            self.delays_ms.append(delay_ms)
            self.engine.note(
                prompt["action"].frame,
                "prompt_out",
                prompt=prompt["action"].prompt,
                start_latency_ms=round(start_ms, 1),
                processing_ms=round(delay_ms, 1),
            )
        if player.finished is not None:
            finished = self._frame_at(player.finished[1] + latency)
            self._playing_until = max(finished, self.frames)
            self._prompt = None

    # --- the call -------------------------------------------------------------------------

    def _loop(self, detectors: Detectors, writer: sf.SoundFile | None) -> None:
        try:
            self.streams.start()
            blocks = self._blocks()
            first = next(blocks)  # the call starts once audio flows both ways
            self._act(self.engine.start(0))
            self._process(detectors, writer, first)
            for block in blocks:
                if self.engine.done:
                    break
                self._process(detectors, writer, block)
        except KeyboardInterrupt:
            self.engine.end(self.frames, "aborted", "interrupted (Ctrl-C)")
        except DeviceError as exc:
            self.engine.end(self.frames, "device_error", str(exc))
        finally:
            self.streams.close()
            counters = (self.streams.mic.counters, self.streams.player.counters)
            self.engine.note(
                self.frames,
                "streams",
                input_overflows=counters[0].overflows,
                output_underruns=counters[1].underruns,
            )

    def _process(
        self, detectors: Detectors, writer: sf.SoundFile | None, block: np.ndarray
    ) -> None:
        super()._process(detectors, writer, block)
        last = block[-1].astype(np.float32)
        self.level_dbfs = float(10 * np.log10(max(np.mean(last * last) / 32768.0**2, 1e-10)))
        if self.observer is not None:
            self.observer(self)

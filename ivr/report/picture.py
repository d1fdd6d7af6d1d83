"""The timeline picture of one call (PNG): what both sides said and what the detectors and the
engine made of it, on one time axis (s).

Three panels share the time axis:
- ours: our side's waveform (the recording's left channel), each prompt as a labelled bar from
  its first sample to the end of its playout, each pause as a hatched bar;
- callee: the callee's waveform (right channel) on a fixed scale (-60..0 dBFS, labelled: a
  silent line looks silent, a loud one loud), the webrtcvad decision per frame as a strip
  under it, and the speech segments the segmenter made of it as shaded spans: green where the
  engine hears the callee (`speech`, `low_volume`), grey where it hears the line (`noise`,
  `silence`), labelled by how it hears them;
- level: the callee's frame level and the noise floor (dBFS) with the low-volume threshold,
  the no-input timer windows (from the end of a prompt's playout to the deadline, cut where
  listening ended) and the events that answered them.
The hang-up is a vertical line through all three.

Detector values are recomputed from the recording's right channel with the call's detector
settings: the same frames through the same detectors give the same values the call saw (the
recording holds the callee's frames as the detectors got them, up to the hang-up).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ivr.atomic import atomic_path
from ivr.audio.format import FRAME_S, FULL_SCALE, SAMPLE_RATE
from ivr.audio.framing import Framer
from ivr.call_settings import CallSettings, FrontEndSettings
from ivr.detect.frontend import Detectors
from ivr.timeline import CALLEE_SPEECH, CallTimeline, TimelineRecord

WIDTH_PX = 1400
"""Width of the picture (pixels)."""

DPI = 100
ENVELOPE_COLUMNS = 1400
"""Waveforms are drawn as min/max envelopes over this many columns (one per pixel)."""

FLOOR_DBFS = -90.0
"""Bottom of the level panel (dBFS)."""


@dataclass(frozen=True)
class Tracks:
    """Per-frame detector values of the callee's side (one value per 20 ms frame)."""

    level_dbfs: np.ndarray
    floor_dbfs: np.ndarray
    voiced: np.ndarray

    @property
    def frames(self) -> int:
        """Number of frames."""
        return int(self.level_dbfs.size)


def callee_tracks(
    samples: np.ndarray, settings: FrontEndSettings | None = None, block_frames: int = 3000
) -> Tracks:
    """The detector values of the callee's samples (16 kHz int16, the recording's right
    channel), frame by frame; the last partial frame padded with silence, as a call does."""
    framer = Framer()
    frames = np.concatenate([framer.push(np.ascontiguousarray(samples)), framer.flush()])
    detectors = Detectors(settings)
    levels, floors, voiced = [], [], []
    for start in range(0, len(frames), block_frames):
        result = detectors.process(frames[start : start + block_frames])
        levels.append(result.level_dbfs)
        floors.append(result.floor_dbfs)
        voiced.append(result.voiced)
    if not levels:
        empty = np.zeros(0, dtype=np.float32)
        return Tracks(empty, empty, np.zeros(0, dtype=bool))
    return Tracks(
        np.concatenate(levels), np.concatenate(floors), np.concatenate(voiced).astype(bool)
    )


def envelope(samples: np.ndarray, columns: int = ENVELOPE_COLUMNS) -> tuple[np.ndarray, ...]:
    """(times s, min, max) of `samples` (int16 at 16 kHz) over at most `columns` columns,
    scaled to -1..1."""
    n = samples.size
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    per = max(1, -(-n // columns))
    padded = np.zeros(-(-n // per) * per, dtype=np.float32)
    padded[:n] = samples / FULL_SCALE
    shaped = padded.reshape(-1, per)
    times = (np.arange(shaped.shape[0]) * per + per / 2) / SAMPLE_RATE
    return times, shaped.min(axis=1), shaped.max(axis=1)


CALLEE_SCALE_DBFS = -60.0
"""The callee's waveform is drawn on a fixed scale from this level (dBFS, the panel's middle)
to 0 dBFS (its top and bottom edges), so that a silent line looks silent and a loud one loud."""


def peak_heights(
    samples: np.ndarray, columns: int = ENVELOPE_COLUMNS, bottom_dbfs: float = CALLEE_SCALE_DBFS
) -> tuple[np.ndarray, np.ndarray]:
    """(times s, heights 0..1) of `samples` (int16 at 16 kHz) over at most `columns` columns:
    each column's peak in dBFS placed on the fixed scale `bottom_dbfs` (0) .. 0 dBFS (1)."""
    times, low, high = envelope(samples, columns)
    peak = np.maximum(np.abs(low), np.abs(high))
    with np.errstate(divide="ignore"):
        dbfs = 20 * np.log10(np.maximum(peak, 1e-9))
    return times, np.clip((dbfs - bottom_dbfs) / -bottom_dbfs, 0.0, 1.0)


@dataclass(frozen=True)
class Span:
    """A stretch of the call (s) with a label."""

    start_s: float
    end_s: float
    label: str


Timeline = CallTimeline | Sequence[TimelineRecord]
"""A call's timeline: its records, or their measures."""


def _measures(timeline: Timeline) -> CallTimeline:
    return timeline if isinstance(timeline, CallTimeline) else CallTimeline(timeline)


def prompt_spans(timeline: Timeline, end_s: float) -> list[Span]:
    """Each prompt said: from `prompt_started` to its `prompt_finished`, a barge-in or the
    hang-up (`end_s` for one still playing when the timeline ends)."""
    return [
        Span(w.start_s, end_s if w.end_s is None else w.end_s, w.prompt)
        for w in _measures(timeline).prompt_windows
    ]


def pause_spans(timeline: Timeline) -> list[Span]:
    """Each pause: from `pause_started` for its seconds."""
    return [
        Span(r.t, r.t + float(r.seconds), f"pause {r.seconds:g} s")
        for r in _measures(timeline).pauses
    ]


def speech_spans(timeline: Timeline) -> list[Span]:
    """The segmenter's speech segments (`vad_end` records: start and end of the speech, s),
    each labelled by how the engine heard it (`heard_as`; `speech` when the record does not
    say)."""
    call = _measures(timeline)
    return [
        Span(start, end, call.heard_as.get(start) or "speech")
        for start, end in call.speech_segments
    ]


def timer_windows(timeline: Timeline) -> list[tuple[Span, bool]]:
    """No-input windows: (from `listen_started` to its deadline, or to where listening ended
    first; whether the timer fired). A window's label is its length as armed (s)."""
    return [
        (Span(w.start_s, w.end_s, f"{w.armed_s:.1f} s"), w.fired)
        for w in _measures(timeline).listen_windows
    ]


def draw_timeline(
    recording: Path,
    timeline: Sequence[TimelineRecord],
    out: Path,
    settings: CallSettings | None = None,
    title: str = "",
) -> Path:
    """Draw the call's timeline picture into `out` (PNG, written atomically); `out`."""
    import soundfile as sf

    settings = settings or CallSettings()
    stereo, rate = sf.read(recording, dtype="int16", always_2d=True)
    if rate != SAMPLE_RATE or stereo.shape[1] != 2:
        raise ValueError(f"{recording}: expected a 16 kHz stereo call recording")
    tracks = callee_tracks(stereo[:, 1], settings.front_end)
    call = CallTimeline(timeline)
    hangup = call.hangup
    end_s = max(stereo.shape[0] / SAMPLE_RATE, hangup.t if hangup else 0.0, 1.0)

    with png_figure(out, 7.2, (1.1, 1.1, 1.5)) as (fig, (ours, callee, level)):
        _draw_ours(ours, stereo[:, 0], call, end_s)
        frames_t = np.arange(tracks.frames) * FRAME_S
        _draw_callee(callee, stereo[:, 1], call, frames_t, tracks)
        _draw_levels(level, frames_t, tracks, settings, call)
        if hangup is not None:
            for axis in (ours, callee, level):
                axis.axvline(hangup.t, color="#c92a2a", lw=1.5)
            level.text(
                hangup.t, FLOOR_DBFS + 2, f" hang-up: {hangup.outcome}",
                color="#c92a2a", fontsize=8, ha="right", va="bottom",
            )  # fmt: skip
        level.set_xlim(0, end_s * 1.01)
        level.set_xlabel("call time (s)")
        if title:
            fig.suptitle(title, fontsize=10, x=0.01, ha="left")
        fig.subplots_adjust(left=0.045, right=0.99, top=0.93, bottom=0.075, hspace=0.12)
    return out


@contextlib.contextmanager
def png_figure(out: Path, height_in: float, ratios: Sequence[float]) -> Iterator[tuple[Any, Any]]:
    """A figure WIDTH_PX wide and `height_in` inches high of panels one above the other sharing
    the time axis, their heights in `ratios`: (figure, panels). Written to `out` (PNG,
    atomically) when the block ends without an error; closed either way."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams["font.family"] = font_families()
    fig, panels = plt.subplots(
        len(ratios),
        1,
        sharex=True,
        figsize=(WIDTH_PX / DPI, height_in),
        dpi=DPI,
        gridspec_kw={"height_ratios": list(ratios)},
    )
    try:
        yield fig, panels
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)


CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", "SimHei")
"""Fonts with Chinese glyphs, in order of preference, for file names and titles."""


@functools.cache
def font_families() -> list[str]:
    """DejaVu Sans, then the installed fonts of CJK_FONTS (matplotlib falls back per glyph)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(name for name in CJK_FONTS if name in installed)]


def _draw_ours(ours, samples: np.ndarray, call: CallTimeline, end_s: float) -> None:
    """Our side: the waveform, the prompts played (bars with their text) and the pauses."""
    _draw_side(ours, samples, "ours", "#1f5fa8")
    for span in prompt_spans(call, end_s):
        ours.axvspan(span.start_s, span.end_s, ymin=0.88, ymax=0.98, color="#1f5fa8", alpha=0.8)
        ours.text(span.start_s + 0.1, 0.83, span.label, fontsize=8, va="top", color="#123")
    for span in pause_spans(call):
        ours.axvspan(
            span.start_s, span.end_s, ymin=0.88, ymax=0.98, fill=False, hatch="///",
            edgecolor="#777",
        )  # fmt: skip


def _draw_callee(
    callee, samples: np.ndarray, call: CallTimeline, frames_t: np.ndarray, tracks: Tracks
) -> None:
    """The callee's side: the waveform on the fixed dBFS scale, the speech spans (labelled) and
    the VAD's voiced frames."""
    _draw_callee_level(callee, samples)
    for span in speech_spans(call):
        color = "#2b8a3e" if span.label in CALLEE_SPEECH else "#868e96"
        callee.axvspan(span.start_s, span.end_s, color=color, alpha=0.15, lw=0)
        if span.label != "speech":
            callee.text(span.start_s + 0.1, 0.9, span.label, fontsize=7, va="top", color=color)
    callee.fill_between(
        frames_t, -1.0, -0.88, where=tracks.voiced, step="post", color="#e67700",
        lw=0, label="VAD voiced",
    )  # fmt: skip
    callee.legend(loc="upper right", fontsize=7, frameon=False)


def _draw_side(axis, samples: np.ndarray, name: str, color: str) -> None:
    """A waveform scaled to its own peak, so that a quiet side is still seen (peak noted)."""
    times, low, high = envelope(samples)
    peak = float(max(np.abs(low).max(initial=0.0), np.abs(high).max(initial=0.0)))
    scale = 0.8 / peak if peak > 0 else 1.0
    axis.fill_between(times, low * scale, high * scale, color=color, lw=0.5, alpha=0.9)
    axis.set_ylim(-1.05, 1.05)
    axis.set_yticks([])
    axis.set_ylabel(name)
    peak_dbfs = 20 * np.log10(peak) if peak > 0 else -np.inf
    axis.text(
        0.995, 0.02, f"scaled to peak {round(peak_dbfs)} dBFS" if peak > 0 else "silent",
        transform=axis.transAxes, fontsize=7, ha="right", va="bottom", color="#555",
    )  # fmt: skip


def _draw_callee_level(axis, samples: np.ndarray) -> None:
    """The callee's waveform as its peak level on the fixed scale CALLEE_SCALE_DBFS..0 dBFS,
    drawn both ways from the middle, the scale on the axis and said in the panel."""
    times, heights = peak_heights(samples)
    axis.fill_between(times, -heights, heights, color="#2b8a3e", lw=0, alpha=0.9)
    axis.set_ylim(-1.05, 1.05)
    bottom = CALLEE_SCALE_DBFS
    ticks = [0.0, 1 / 3, 2 / 3, 1.0]
    axis.set_yticks(ticks, [f"{round(bottom * (1 - t)) + 0}" for t in ticks], fontsize=7)
    axis.set_ylabel("callee\ndBFS")
    peak = float(np.abs(samples).max(initial=0)) / FULL_SCALE
    said = f"peak {round(20 * np.log10(peak))} dBFS" if peak > 0 else "silent"
    axis.text(
        0.005, 0.96, f"fixed scale {bottom:.0f}..0 dBFS ({said})", transform=axis.transAxes,
        fontsize=8, ha="left", va="top", color="#222",
        bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1},
    )  # fmt: skip


def _draw_levels(
    axis, frames_t: np.ndarray, tracks: Tracks, settings: CallSettings, call: CallTimeline
) -> None:
    axis.plot(frames_t, tracks.level_dbfs, color="#555", lw=0.6, label="level")
    axis.plot(frames_t, tracks.floor_dbfs, color="#e67700", lw=1.2, label="noise floor")
    axis.axhline(
        settings.classify.low_volume_dbfs, color="#862e9c", lw=0.8, ls="--",
        label=f"low volume ({settings.classify.low_volume_dbfs:g} dBFS)",
    )  # fmt: skip
    for span, fired in timer_windows(call):
        axis.axvspan(
            span.start_s, span.end_s, ymin=0.90, ymax=0.97, facecolor="#74c0fc",
            edgecolor="#1864ab", lw=0.8,
        )  # fmt: skip
        if fired:
            axis.plot([span.end_s], [-3], marker="v", color="#1864ab", ms=6)
    for r in call.dialog_events:
        axis.text(r.t, -8, f"{r.event} #{r.count}", fontsize=7, rotation=90, va="top")
    axis.set_ylim(FLOOR_DBFS, 0)
    axis.set_ylabel("dBFS")
    axis.plot([], [], color="#74c0fc", lw=6, label="no-input timer")
    axis.legend(loc="lower left", fontsize=7, frameon=False, ncols=4)

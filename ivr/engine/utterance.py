"""Turning what was heard in a listening window into one dialog event.

The input gain is applied to measured levels, not to the audio: a segment's level and the
noise floor move by the gain, its signal-to-noise ratio does not. The detectors therefore see
the call exactly as recorded, whatever the dialog does, so their outputs can be computed once
per call and reused (replay, tuning). webrtcvad's own decisions barely depend on level above
its small energy threshold, which is what makes this a fair model of a gain stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from ivr.call_settings import ClassifySettings
from ivr.detect.classify import Situation, classify_window, is_clear
from ivr.events import Segment
from ivr.script.model import SetInputGain, State
from ivr.vocabulary import DialogEvent


def with_gain(segments: Sequence[Segment], gain_db: float) -> list[Segment]:
    """Segments as heard through an input gain of `gain_db` (dB): levels move, SNR does not."""
    if not gain_db:
        return list(segments)
    return [
        replace(s, level_dbfs=s.level_dbfs + gain_db, floor_dbfs=s.floor_dbfs + gain_db)
        for s in segments
    ]


def is_choppy(segments: Sequence[Segment], settings: ClassifySettings) -> bool:
    """Speech cutting in and out: dropouts of the line inside its segments (abrupt losses,
    ivr.detect.dropouts; the pauses between its pieces are the talker's), enough of them and
    often enough (ClassifySettings.choppy_min_gaps, choppy_min_rate_hz)."""
    if not segments:
        return False
    dropouts = sum(s.gaps for s in segments)
    speech_s = sum(s.duration_s for s in segments)
    return dropouts >= settings.choppy_min_gaps and (
        dropouts / max(speech_s, 1e-9) >= settings.choppy_min_rate_hz
    )


def utterance_event(
    segments: Sequence[Segment], floor_dbfs: float, gain_db: float, settings: ClassifySettings
) -> DialogEvent | None:
    """The dialog event for an utterance (speech, low_volume, noise, choppy), or None when
    it was too faint to count (a blip on a quiet line: keep waiting)."""
    heard = with_gain(segments, gain_db)
    situation = classify_window(heard, floor_dbfs + gain_db, settings)
    if situation is Situation.SILENCE:
        return None
    # Speech heard only through the input gain is not judged choppy: the gain applies to
    # measured levels, and webrtcvad, hearing the recording as it is, drops the quiet parts of
    # quiet speech (a callee at -44 dBFS over a quiet line: two 100 ms holes a second of
    # speech), which would read as the line cutting in and out.
    audible_as_is = not gain_db or classify_window(segments, floor_dbfs, settings) is (
        Situation.SPEECH
    )
    # Only on a quiet line do holes in the speech mean the line cuts in and out: on a noisy
    # line the noise goes on through them and webrtcvad hears one segment of babble with the
    # callee's words and pauses inside it. And only the pieces that are clear speech count.
    quiet_line = floor_dbfs + gain_db < settings.noisy_floor_dbfs
    clear = [s for s in heard if is_clear(s, floor_dbfs + gain_db, settings)]
    judged = situation is Situation.SPEECH and audible_as_is and quiet_line
    if judged and is_choppy(clear, settings):
        return DialogEvent.CHOPPY
    return DialogEvent(str(situation))


class PieceLevels(NamedTuple):
    """What the timeline says of an utterance's pieces: their count, loudest level (dBFS) and
    best signal-to-noise ratio (dB)."""

    pieces: int
    level_dbfs: float
    snr_db: float


def piece_levels(segments: Sequence[Segment]) -> PieceLevels:
    """The levels of an utterance's pieces (`segments`, at least one)."""
    return PieceLevels(
        len(segments), max(s.level_dbfs for s in segments), max(s.snr_db for s in segments)
    )


def max_speech_event(
    pieces: Sequence[Segment], floor_dbfs: float, gain_db: float, settings: ClassifySettings
) -> DialogEvent:
    """The event for an utterance cut off at max_speech, judged by its pieces so far (the open
    one as measured last): as any utterance, except that sound too faint to count is `noise`
    on a noisy line and otherwise `speech` (someone has been talking for max_speech_s)."""
    event = utterance_event(pieces, floor_dbfs, gain_db, settings)
    if event is not None:
        return event
    noisy = window_event(floor_dbfs, settings) is DialogEvent.NOISE
    return DialogEvent.NOISE if noisy else DialogEvent.SPEECH


def deadline_verdict(
    pieces: Sequence[Segment],
    floor_dbfs: float,
    gain_db: float,
    noise_heard: bool,
    settings: ClassifySettings,
) -> DialogEvent | None:
    """At the no-input deadline while sound goes on: None when it is speech to us (clear, too
    quiet or choppy: the window stays open until the utterance ends), else the window's event,
    `noise` (the sound, an earlier utterance of the window or the floor is noise) or
    `noinput` (sound too faint to count on a quiet line)."""
    event = utterance_event(pieces, floor_dbfs, gain_db, settings)
    if event in (DialogEvent.SPEECH, DialogEvent.CHOPPY, DialogEvent.LOW_VOLUME):
        return None
    noisy = event is DialogEvent.NOISE or noise_heard
    if noisy or window_event(floor_dbfs, settings) is DialogEvent.NOISE:
        return DialogEvent.NOISE
    return DialogEvent.NOINPUT


def window_event(floor_dbfs: float, settings: ClassifySettings) -> DialogEvent:
    """The event when a listening window times out with no utterance: noise or noinput.

    The line's floor is judged as it came, without our input gain: turning ourselves down
    after noise (seed 000's 调低音量) makes the noise quieter to us, not the line less noisy,
    and babble or a television heard through it stays noise."""
    situation = classify_window([], floor_dbfs, settings)
    return DialogEvent.NOISE if situation is Situation.NOISE else DialogEvent.NOINPUT


def timed_out_event(
    floor_dbfs: float, noise_heard: bool, handlers: Mapping[str, object], settings: ClassifySettings
) -> DialogEvent:
    """The event when a listening window times out with no utterance in progress: `noise` when
    the floor is noise or an utterance of the window was, else `noinput`; `noinput` too in a
    state without noise handlers (the window ended with no answer it takes; else it re-fires)."""
    event = DialogEvent.NOISE if noise_heard else window_event(floor_dbfs, settings)
    return event if event in handlers else DialogEvent.NOINPUT


def low_volume_answers(state: State) -> int | None:
    """How many too-quiet answers a state hears before its low_volume handlers close the call
    (the count of its last handler), or None when they never do."""
    handlers = state.handlers.get(DialogEvent.LOW_VOLUME, ())
    return max(h.count for h in handlers) if handlers else None


def input_gain_steps(state: State, event: str = DialogEvent.LOW_VOLUME) -> tuple[float, ...]:
    """The input gains (dB, absolute) a state's `event` handlers set, in the order of their
    counts: the steps by which a script turns a quiet callee up (seed 000 二、2 01)."""
    return tuple(
        action.db
        for handler in state.handlers.get(event, ())
        for action in handler.actions
        if isinstance(action, SetInputGain)
    )


def utterances(segments: Sequence[Segment], end_of_speech_frames: int) -> list[list[Segment]]:
    """Speech segments grouped as the engine groups them into utterances: a segment that
    starts less than `end_of_speech_frames` after the last one ended is a piece of the same."""
    groups: list[list[Segment]] = []
    for segment in segments:
        if groups and segment.start - groups[-1][-1].end < end_of_speech_frames:
            groups[-1].append(segment)
        else:
            groups.append([segment])
    return groups


def audible_gain_db(
    segments: Sequence[Segment],
    floor_dbfs: float,
    steps: Sequence[float],
    settings: ClassifySettings,
    answers: int | None = None,
    end_of_speech_frames: int = 0,
) -> float | None:
    """The input gain (dB) at which a call of a script with these gain `steps` hears the
    speech as `speech` rather than `low_volume`, or None when it never does (too quiet even at
    the largest step, or no speech at all). As the script escalates, each utterance (segments
    grouped as `utterances` does) is one answer: the first is heard at 0 dB, the next at the
    first step, and so on; with steps (+6, +12), speech audible only at +12 dB is answered from
    the third on. Only the first `answers` count (low_volume_answers: after them the script
    has hung up)."""
    gains = (0.0, *steps)
    for index, pieces in enumerate(utterances(segments, end_of_speech_frames)[:answers]):
        gain = gains[min(index, len(gains) - 1)]
        heard = classify_window(with_gain(pieces, gain), floor_dbfs + gain, settings)
        if heard is Situation.SPEECH:
            return gain
    return None

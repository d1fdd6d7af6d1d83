"""A talker right after a long sound the learned stage rejected is heard from their first words.

Music on hold (Asterisk's tracks), then a quiet gap as long as an agent takes to come back
from hold, then a real talker (Asterisk's prompts in four languages), on a telephone line;
hypothesis draws the track, the levels of both and the gap. The learned stage's stream that
rejected the music ends once webrtcvad has heard nothing for REJECTED_IDLE_FRAMES, so the
talker is read on a new stream at their own gain: before, the music's stream (its network
state, its gain set for quieter music) was read on and never confirmed several seconds of
speech.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from shared import ASTERISK_VOICES, asterisk_voice

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.call_settings import CallSettings
from ivr.detect import Detectors
from ivr.events import SpeechStarted
from ivr.synth.audit_calls import MOH_TRACKS
from ivr.synth.field_audio import load_sound, telephone_line, to_level

MUSIC_S = 12.0
"""Music before the talker (s): long enough for the stage to reject it and listen on."""


def _frames(audio: np.ndarray) -> np.ndarray:
    """16 kHz int16-scale audio through a telephone line and back to 16 kHz, over faint line
    noise, as (n, 320) int16 frames."""
    line = np.repeat(telephone_line(audio), 2)
    line += np.random.default_rng(0).standard_normal(line.size) * 32768 * 10 ** (-66 / 20)
    n = line.size // FRAME_SAMPLES * FRAME_SAMPLES
    return np.rint(np.clip(line[:n], -32768, 32767)).astype(np.int16).reshape(-1, FRAME_SAMPLES)


def _speech_starts(frames: np.ndarray) -> list[SpeechStarted]:
    detectors = Detectors(CallSettings().front_end)
    events = []
    for start in range(0, frames.shape[0], 500):
        events += detectors.process(frames[start : start + 500]).events
    return [e for e in events + detectors.finish() if isinstance(e, SpeechStarted)]


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    track=st.sampled_from(MOH_TRACKS),
    offset_s=st.floats(0.0, 60.0),
    music_dbfs=st.floats(-32.0, -16.0),
    gap_s=st.floats(0.25, 0.9),
    voice=st.sampled_from(ASTERISK_VOICES),
    talker_above_db=st.floats(0.0, 16.0),
)
def test_a_talker_after_music_on_hold_is_heard_from_their_first_words(
    track, offset_s, music_dbfs, gap_s, voice, talker_above_db
):
    music = load_sound("moh", track)
    first = int(offset_s * SAMPLE_RATE)
    music = to_level(np.resize(music[first:], int(MUSIC_S * SAMPLE_RATE)), music_dbfs)
    talker_dbfs = min(music_dbfs + talker_above_db, -12.0)
    talker = to_level(asterisk_voice(voice)[: 5 * SAMPLE_RATE], talker_dbfs)
    quiet = np.zeros(int(gap_s * SAMPLE_RATE))
    audio = np.concatenate((np.zeros(SAMPLE_RATE), music, quiet, talker, np.zeros(SAMPLE_RATE)))
    starts = _speech_starts(_frames(audio))
    power = np.mean(talker[: talker.size // 320 * 320].reshape(-1, 320) ** 2, axis=1)
    talker_at = (SAMPLE_RATE + music.size + quiet.size) // FRAME_SAMPLES
    first_word = talker_at + int(np.argmax(power >= power.max() / 100))  # within 20 dB of peak
    heard = [s for s in starts if s.frame >= talker_at - 2]
    assert heard, [(s.frame, s.decided_frame) for s in starts]
    assert heard[0].frame <= first_word + 10  # from its first 200 ms

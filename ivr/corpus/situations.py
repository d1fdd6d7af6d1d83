"""What happens on a synthesized call: the situations a corpus is made of, the classification a
detector should give each, and the kinds of non-speech sound on a line."""

from __future__ import annotations

BASIC_SITUATIONS = (
    "answers_at_once",
    "answers_late",
    "never_answers",
    "too_quiet",
    "noisy_line",
    "cut_in_out",
)
"""The situations of the sample and random corpora (cycled through in this order)."""

REALISTIC_SITUATIONS = (
    "continuous_talker",
    "talks_over_prompt",
    "clicks",
    "breathing",
    "dc_offset",
    "clipped_loud",
    "babble_talker",
    "distant_babble",
)
"""Situations of real callers and lines (see ivr.synth.realistic)."""

LINE_SITUATIONS = (
    "voicemail",
    "ringback",
    "busy_tone",
    "carrier_announcement",
    "presses_key",
    "on_hold",
)
"""What a telephone line says besides speech (see ivr.synth.line_calls)."""

FIELD_SITUATIONS = (
    "chimes",
    "ring_tone",
    "static_bursts",
    "band_clicks",
    "tv_in_room",
    "phone_talker",
    "babble_alone",
    "talker_over_babble",
    "hum_talker",
    "erased_bursts",
    "lost_frames",
    "speakerphone",
)
"""Sounds, talkers and lines of the field corpus (see ivr.synth.field)."""

SITUATIONS = BASIC_SITUATIONS + REALISTIC_SITUATIONS + LINE_SITUATIONS + FIELD_SITUATIONS
"""What happens on a call."""

SPEECHLESS_SITUATIONS = frozenset(
    {
        "never_answers",
        "clicks",
        "breathing",
        "distant_babble",
        "ringback",
        "busy_tone",
        "chimes",
        "ring_tone",
        "static_bursts",
        "band_clicks",
        "tv_in_room",
        "babble_alone",
    }
)
"""Situations in which the callee says nothing."""

EXPECTED_CLASSIFICATION = {
    "answers_at_once": "speech",
    "answers_late": "speech",
    "never_answers": "silence",
    "too_quiet": "low_volume",
    "noisy_line": "noise",
    "cut_in_out": "speech",
    "continuous_talker": "speech",
    "talks_over_prompt": "speech",
    "clicks": "silence",
    "breathing": "silence",
    "dc_offset": "speech",
    "clipped_loud": "speech",
    "babble_talker": "speech",
    "distant_babble": "noise",
    "voicemail": "speech",
    "ringback": "silence",
    "busy_tone": "silence",
    "carrier_announcement": "speech",
    "presses_key": "speech",
    "on_hold": "speech",
    "chimes": "silence",
    "ring_tone": "silence",
    "static_bursts": "silence",
    "band_clicks": "silence",
    "tv_in_room": "noise",
    "phone_talker": "speech",
    "babble_alone": "noise",
    "talker_over_babble": "speech",
    "hum_talker": "speech",
    "erased_bursts": "speech",
    "lost_frames": "speech",
    "speakerphone": "speech",
}
"""The classification a detector should give each situation."""

CLASSIFICATIONS = ("speech", "low_volume", "noise", "silence")
"""What a detector can say a call holds."""

LINE_SOUND_KINDS = ("ringback", "busy", "congestion", "sit", "dtmf", "beep")
"""The line's own signals (see ivr.synth.line_signals): China's 450 Hz cadences, the special
information tone, a telephone key, an answering machine's beep."""
SOUND_KINDS = ("click", "pop", "knock", "breath", *LINE_SOUND_KINDS)
"""Non-speech sounds on a line (see ivr.synth.impulses)."""

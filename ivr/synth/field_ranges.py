"""The documented ranges and recordings of the field corpus (ivr.synth.field).

Levels are dBFS (0 dBFS = RMS of a full-scale square wave), times seconds unless a name ends
in _ms; a pair is a (low, high) range a value is drawn from uniformly.
"""

from __future__ import annotations

PHRASES = (
    "vm-intro",
    "conf-getpin",
    "conf-onlyperson",
    "agent-alreadyon",
    "vm-instructions",
    "vm-leavemsg",
    "vm-incorrect-mailbox",
    "vm-rec-name",
    "vm-rec-busy",
    "vm-forwardoptions",
    "vm-advopts",
)
"""Asterisk prompts (1.5-8 s of speech each) a talker says, in a seeded order."""

VOICES = {
    "ru": "asterisk:ru_RU_f_IvrvoiceRU",
    "it": "asterisk:it_IT_m_Carlo",
    "es": "asterisk:es_MX_f_Allison",
}
"""New voices: a Russian woman (asterisk-core-sounds-ru-wav), an Italian man, Carlo
(asterisk-core-sounds-it-wav), and Allison Smith in Spanish (asterisk-core-sounds-es-wav)."""

BABBLE_POOLS = (
    tuple(f"{VOICES['ru']}/{p}.wav" for p in PHRASES),
    tuple(f"{VOICES['it']}/{p}.wav" for p in PHRASES),
    tuple(f"{VOICES['es']}/{p}.wav" for p in PHRASES if p != "pls-hold-while-try"),
    tuple(
        f"human:librivox/sense_and_sensibility_01_austen_64kb-{n:04d}.wav"
        for n in (870, 880, 890, 920, 930)
    ),
    ("human:tidigits/dhd.2934z.raw", "human:numbers.raw", "human:goforward.raw"),
    tuple(f"asterisk:fr_CA_f_June/{p}.wav" for p in ("demo-congrats", "conf-onlyperson")),
)
"""Voices of distant babble and of a TV, one pool of recordings per talker."""

CHIMES = (
    "bell.oga",
    "message.oga",
    "complete.oga",
    "message-new-instant.oga",
    "window-attention.oga",
    "dialog-information.oga",
    "device-added.oga",
    "service-login.oga",
)
"""Notification sounds of a phone or a computer near the callee (sound-theme-freedesktop)."""

RING_TONE = "phone-incoming-call.oga"
"""Another phone ringing in the room (sound-theme-freedesktop, 1.46 s)."""

MUSIC = (
    "macroform-cold_day.wav",
    "macroform-the_simplicity.wav",
    "manolo_camp-morning_coffee.wav",
    "reno_project-system.wav",
)
"""Music of a TV programme (asterisk-moh-opsound-wav)."""

CHIME_DBFS = (-40.0, -10.0)
"""RMS level of a chime or ring tone over its active part (dBFS)."""

CHIME_FIRST_S = (0.0, 2.0)
"""When the first chime sounds (s)."""

CHIME_GAP_S = (3.0, 8.0)
"""Time from one chime's start to the next (s)."""

RING_GAP_S = (1.0, 2.5)
"""Silence between two rings of a ring tone (s)."""

STATIC_DBFS = (-40.0, -25.0)
"""RMS level of a static burst (dBFS)."""

STATIC_BURST_MS = (100.0, 400.0)
"""Length of a static burst (ms)."""

STATIC_GAP_S = (1.0, 3.0)
"""Time from one static burst's start to the next (s)."""

ROOM_DBFS = (-45.0, -35.0)
"""RMS level of a TV in the room or distant babble over the whole call (dBFS)."""

TV_SPEECH_TO_MUSIC_DB = (0.0, 10.0)
"""A TV's dialogue above its music (dB, active speech level to music RMS)."""

BABBLE_TALKERS = (4, 6)
"""Distant talkers in babble (inclusive)."""

ROOM_RT60_S = (0.4, 0.8)
"""Reverberation time of a room (s): a furnished room to an office."""

DISTANT_DRR_DB = (-6.0, 0.0)
"""Direct-to-reverberant ratio of a distant talker or a TV (dB)."""

SPEAKERPHONE_DRR_DB = (0.0, 6.0)
"""Direct-to-reverberant ratio of a talker 0.5-1 m from a speakerphone (dB)."""

OVER_BABBLE_DB = (16.0, 30.0)
"""A talker's active speech level above the babble's RMS (dB)."""

HUM_DBFS = (-28.0, -24.0)
"""RMS of mains hum over the whole call (dBFS)."""

HUM_TALKER_DBFS = (-26.0, -22.0)
"""Active speech level of a talker over hum (dBFS)."""

PHRASE_PAUSE_S = (0.3, 1.2)
"""Pause between a talker's phrases (s)."""

TALK_S = (8.0, 15.0)
"""How long a talker answering us talks (s, phrases and pauses)."""

CHOPPY_TALK_S = (25.0, 35.0)
"""How long a talker on a line that cuts in and out talks (s): long enough to be asked to
repeat and to go on."""

HELD_OUT_SHARE = 1 / 3
"""Share of each class's calls held out."""

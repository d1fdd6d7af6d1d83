"""Realistic calls for one script: callers and lines as they are, not as our rules assume.

The calls of ivr.synth.script_calls answer with short phrases timed around our prompts. Real
callers talk on for half a minute, start before our prompt ends, click and knock the handset,
breathe into it, call from a cheap sound card with a DC offset or shout until it clips, from
an open-plan office; their calls come as A-law or mu-law telephone audio or as stereo files
with the agent on the other side. Each call here says what its caller does and the outcome a
caller or a QA listener expects (`expect: outcome:`), with the prompts said in order
(`expect: prompts:`) and, where the script's timers fix them, the times of the prompts and the
hang-up (`expect: events:`, from `silent_line_events`). Outcomes are for detector-only replay
(no speech recognition): the talkers speak English, French or Mandarin.

Every level and time is drawn from the documented range below, from a generator seeded by the
corpus seed and the call's row, so a corpus renders byte-identically for a seed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ivr.audio.format import FRAME_S
from ivr.script.model import Script
from ivr.synth.calls import CallSpec, Utterance
from ivr.synth.corpus import LEVEL_JITTER_DB, NORMAL_LEVEL_DBFS
from ivr.synth.impulses import breathing, impulse_train
from ivr.synth.script_calls import PromptFrames, ScriptPlan
from ivr.synth.speech import load_phrase

READER = tuple(
    f"human:librivox/sense_and_sensibility_01_austen_64kb-{n:04d}.wav"
    for n in (870, 880, 890, 920, 930)
)
"""One reader's consecutive sentences (librivox, in book order): 22.5 s of speech."""

READER_PAUSE_S = (0.45, 0.65)
"""Pause between the reader's sentences (s): the silences at the cuts between consecutive
clips (the trailing plus the next one's leading silence) measure 0.48-0.58 s."""

ALLISON_TALKER = "asterisk:en_US_f_Allison/demo-congrats.wav"
"""A second continuous talker: 29.9 s with natural pauses of up to 0.5 s."""

EARLY_START_S = (2.0, 3.0)
"""A continuous talker starts this long before our opening prompt ends (s)."""

MID_PROMPT = (0.4, 0.6)
"""A talker over our prompt starts this far into it (fraction of its length) ..."""

OVERRUN_S = (0.8, 1.2)
"""... and stops talking this long after it ends (s)."""

REACTION_S = (0.3, 1.0)
"""A caller answers this long after our opening prompt ends (s)."""

REPLY_PAUSE_S = (0.3, 1.5)
"""Pause between a caller's phrases (s)."""

AGENT_REPLY_S = (0.8, 1.5)
"""Stereo: the agent answers this long after the caller stops (s)."""

FAINT_NOISE_DBFS = (-75.0, -65.0)
"""Line noise of an otherwise quiet line (dBFS RMS)."""

CLICK_INTERVAL_S = (1.0, 2.0)
"""Time between clicks, pops and knocks (s)."""

CLICK_PEAK_DBFS = (-24.0, -6.0)
"""Peak sample level of a click, pop or knock (dBFS)."""

BREATH_PERIOD_S = (3.0, 5.0)
"""One breath cycle (s): 12-20 breaths a minute at rest."""

BREATH_LEVEL_DBFS = (-58.0, -52.0)
"""RMS level of a breath close to the handset (dBFS)."""

DC_OFFSET = (0.10, 0.20)
"""DC offset of a cheap sound card (fraction of full scale), of either sign."""

LOUD_LEVEL_DBFS = (-9.0, -5.0)
"""Active level of a loud talker before the recorder clips (dBFS): peaks clip by 10 dB."""

OFFICE_BABBLE_DBFS = (-42.0, -38.0)
"""RMS level of distant office babble (dBFS)."""

FOREGROUND_LEVEL_DBFS = (-20.0, -16.0)
"""Active level of a caller over office babble (dBFS)."""

AGENT_LEVEL_DBFS = (-22.0, -18.0)
"""Active level of the agent's side of a stereo recording (dBFS)."""

TAIL_S = (3.0, 6.0)
"""The recording runs on this long after the call should have hung up (s)."""

LONG_TAIL_S = (20.0, 40.0)
"""A long silent line runs on this long after the final hang-up (s)."""

ANSWERS = ("是的,我是", "是的", "好的", "没问题", "对")
"""What a caller answers with (synthesized Mandarin)."""

HELLOS = ("喂?", "喂,你好", "喂?", "你好")
"""What a caller says while waiting to be spoken to (synthesized Mandarin)."""

HUMAN_ANSWERS = ("human:cards/002.wav", "human:cards/005.wav", "alsa:Front_Center.wav")
"""Real human answers (English)."""


ROWS = (
    ("continuous_talker", "clean", "continuous_reader"),
    ("continuous_talker", "telephone_alaw", "continuous_allison"),
    ("talks_over_prompt", "clean", "over_prompt_reader"),
    ("talks_over_prompt", "telephone", "over_prompt_tts"),
    ("clicks", "clean", "clicks"),
    ("clicks", "telephone_alaw", "clicks"),
    ("breathing", "clean", "breathing"),
    ("breathing", "telephone", "breathing"),
    ("dc_offset", "clean", "dc_offset"),
    ("clipped_loud", "clean", "clipped_loud"),
    ("clipped_loud", "telephone", "clipped_loud"),
    ("babble_talker", "clean", "babble_talker"),
    ("babble_talker", "telephone_alaw", "babble_talker"),
    ("distant_babble", "clean", "distant_babble"),
    ("answers_at_once", "clean", "stereo_prompts"),
    ("answers_at_once", "clean", "stereo_human_agent"),
    ("never_answers", "clean", "long_silence"),
    ("never_answers", "telephone_alaw", "long_silence"),
)
"""The calls, in order: (situation, channel, how the caller behaves: a `_Plan` method).
Call i is named `<script>_r<i+1>_<situation>_<channel>` (`_stereo` added for stereo files)."""


def realistic_call_specs(
    script: Script, prompt_frames: PromptFrames, seed: int = 7
) -> list[tuple[CallSpec, dict[str, Any]]]:
    """The realistic calls for `script`, each with its `expect:` additions."""
    plan = _Plan(script, prompt_frames)
    out = []
    for i, (situation, channel, method) in enumerate(ROWS):
        rng = np.random.default_rng([seed, 0x4EA1, i])
        fields, expect = getattr(plan, method)(rng)
        stereo = "_stereo" if fields.get("callee_channel") else ""
        spec = CallSpec(
            name=f"{script.name}_r{i + 1:02d}_{situation}_{channel}{stereo}",
            situation=situation,
            channel=channel,
            seed=seed * 1000 + 100 + i,
            **fields,
        )
        out.append((spec, expect))
    return out


class _Plan(ScriptPlan):
    """The script's timing, and one method per kind of call: (CallSpec fields, expect)."""

    def answered(self) -> dict[str, Any]:
        return self.expect("answered", self.answer_prompts)

    def _answered_duration(self, utterances: tuple[Utterance, ...], rng) -> float:
        """Long enough for our answer and hang-up after the caller's last speech."""
        answer_s = sum(self.frames(p) for p in self.answer_prompts) * FRAME_S
        return _frame(speech_end(utterances) + self.eos + answer_s + _u(rng, TAIL_S))

    # --- callers --------------------------------------------------------------------------

    def continuous_reader(self, rng):
        """(a) The librivox reader, from EARLY_START_S before the opening ends, 24 s on."""
        start = max(0.0, self.t0 - _u(rng, EARLY_START_S))
        talk = _talker(READER, start, rng, _normal(rng))
        return self._talking(talk, rng), self.answered()

    def continuous_allison(self, rng):
        """(a) Allison Smith's 30 s of continuous speech, from EARLY_START_S before the end."""
        start = max(0.0, self.t0 - _u(rng, EARLY_START_S))
        talk = _talker((ALLISON_TALKER,), start, rng, _normal(rng))
        return self._talking(talk, rng), self.answered()

    def over_prompt_reader(self, rng):
        """(b) The reader's consecutive sentences from about MID_PROMPT of the opening to
        OVERRUN_S after it (the run of sentences whose length fits best)."""
        fraction, overrun = _u(rng, MID_PROMPT), _u(rng, OVERRUN_S)
        wanted = self.t0 * (1.0 - fraction) + overrun
        runs = [READER[a:b] for a in range(len(READER)) for b in range(a + 1, len(READER) + 1)]
        pauses = [_u(rng, READER_PAUSE_S) for _ in READER]
        spans = [_span(run, pauses) for run in runs]
        best = min(range(len(runs)), key=lambda k: (abs(spans[k] - wanted), k))
        level = _normal(rng)
        probe = _talker(runs[best], 0.0, None, level, pauses)
        start = max(0.0, self.t0 + overrun - speech_end(probe))
        talk = _talker(runs[best], start, None, level, pauses)
        return self._talking(talk, rng), self.answered()

    def over_prompt_tts(self, rng):
        """(b) Hello? hello? ... through the prompt from about MID_PROMPT, then "是的,我是"
        ending OVERRUN_S after it."""
        earliest, overrun = self.t0 * _u(rng, MID_PROMPT), _u(rng, OVERRUN_S)
        level, end = _normal(rng), self.t0 + overrun
        placed: list[Utterance] = []
        for k in range(100):
            phrase = "是的,我是" if k == 0 else HELLOS[k % len(HELLOS)]
            first, last = load_phrase(phrase).speech_span_s
            start = _frame(end - last)
            if placed and start + first < earliest:
                break
            placed.insert(0, Utterance(start, phrase, _cap((phrase,), level)))
            end = start + first - _u(rng, REPLY_PAUSE_S)
        return self._talking(tuple(placed), rng), self.answered()

    def _talking(self, talk: tuple[Utterance, ...], rng) -> dict[str, Any]:
        noise = ("pink", "white")[int(rng.integers(2))]
        return {
            "duration_s": self._answered_duration(talk, rng),
            "utterances": talk,
            "noise": noise,
            "noise_dbfs": _level(rng, FAINT_NOISE_DBFS),
        }

    def _answer(
        self,
        rng,
        level: float,
        pool: tuple[str, ...] = ANSWERS,
        headroom_db: float | None = 0.0,
        after: float | None = None,
    ) -> tuple[Utterance, ...]:
        """1-2 answers from `pool`, REACTION_S after the opening (or after `after`, s), at
        `level` (dBFS) capped to `headroom_db` below clipping; None: not capped."""
        start = _frame((self.t0 if after is None else after) + _u(rng, REACTION_S))
        if headroom_db is not None:  # only phrases that reach the level without clipping
            fitting = tuple(p for p in pool if _cap((p,), level, headroom_db) >= round(level, 1))
            pool = fitting or pool
        out = []
        for _ in range(int(rng.integers(1, 3))):
            phrase = pool[int(rng.integers(len(pool)))]
            here = level if headroom_db is None else _cap((phrase,), level, headroom_db)
            out.append(Utterance(start, phrase, here))
            start = _frame(start + load_phrase(phrase).duration_s + _u(rng, REPLY_PAUSE_S))
        return tuple(out)

    def dc_offset(self, rng):
        """(e) A normal answer recorded with a DC_OFFSET; levels leave room for the offset."""
        dc = _dc(rng)
        headroom = -20.0 * math.log10(1.0 - abs(dc))
        talk = self._answer(rng, _normal(rng), headroom_db=headroom)
        fields = self._talking(talk, rng)
        return {**fields, "dc_offset": dc}, self.answered()

    def clipped_loud(self, rng):
        """(e) A LOUD_LEVEL_DBFS answer, clipped, recorded with a DC_OFFSET."""
        pool = ANSWERS + HUMAN_ANSWERS
        talk = self._answer(rng, _level(rng, LOUD_LEVEL_DBFS), pool, headroom_db=None)
        fields = self._talking(talk, rng)
        return {**fields, "dc_offset": _dc(rng), "clipping": True}, self.answered()

    def babble_talker(self, rng):
        """(f) An answer at FOREGROUND_LEVEL_DBFS over office babble at OFFICE_BABBLE_DBFS."""
        talk = self._answer(rng, _level(rng, FOREGROUND_LEVEL_DBFS), pool=ANSWERS + HUMAN_ANSWERS)
        fields = {
            "duration_s": self._answered_duration(talk, rng),
            "utterances": talk,
            "noise": "office",
            "noise_dbfs": _level(rng, OFFICE_BABBLE_DBFS),
        }
        return fields, self.answered()

    def distant_babble(self, rng):
        """(f) The office babble alone, past the silent line's hang-up."""
        fields = {
            "duration_s": _frame(self.hangup_s + _u(rng, TAIL_S)),
            "noise": "office",
            "noise_dbfs": _level(rng, OFFICE_BABBLE_DBFS),
        }
        return fields, self.expect("noisy_line", self.noise_prompts)

    # --- quiet lines ----------------------------------------------------------------------

    def _silent_line(self, rng, tail: tuple[float, float]) -> dict[str, Any]:
        return {
            "duration_s": _frame(self.hangup_s + _u(rng, tail)),
            "noise": ("pink", "white")[int(rng.integers(2))],
            "noise_dbfs": _level(rng, FAINT_NOISE_DBFS),
        }

    def clicks(self, rng):
        """(c) Clicks, pops and knocks every CLICK_INTERVAL_S on a faint line."""
        fields = self._silent_line(rng, TAIL_S)
        end = fields["duration_s"] - 0.1
        sounds = impulse_train(rng, 0.0, end, CLICK_INTERVAL_S, CLICK_PEAK_DBFS)
        return {**fields, "sounds": sounds}, self.no_answer()

    def breathing(self, rng):
        """(d) Breathing at BREATH_LEVEL_DBFS on a faint line."""
        fields = self._silent_line(rng, TAIL_S)
        end = fields["duration_s"] - 0.1
        sounds = breathing(rng, 0.0, end, BREATH_PERIOD_S, BREATH_LEVEL_DBFS)
        return {**fields, "sounds": sounds}, self.no_answer()

    def long_silence(self, rng):
        """(i) A faint line running LONG_TAIL_S past the final hang-up."""
        return self._silent_line(rng, LONG_TAIL_S), self.no_answer()

    # --- stereo ---------------------------------------------------------------------------

    def _stereo(self, rng, opening: list[str], closing: list[str], callee: str):
        """(h) A stereo file: the agent says `opening` at 0 s and `closing` AGENT_REPLY_S after
        the caller's answer, on the side opposite `callee` (left | right)."""
        level = _level(rng, AGENT_LEVEL_DBFS)
        agent = _talker(tuple(opening), 0.0, rng, level)
        talk = self._answer(rng, _normal(rng), after=max(self.t0, speech_end(agent)))
        reply = speech_end(talk) + _u(rng, AGENT_REPLY_S)
        agent += _talker(tuple(closing), reply, rng, level)
        fields = self._talking(talk, rng)
        fields["duration_s"] = max(fields["duration_s"], _frame(speech_end(agent) + 1.0))
        return {**fields, "agent": agent, "callee_channel": callee}, self.answered()

    def stereo_prompts(self, rng):
        """The agent side says our own prompts (synthesized), the callee is on the right."""
        texts = self.script.prompts
        opening = [texts[p] for p in self.opening]
        closing = [texts[p] for p in self.answer_prompts]
        return self._stereo(rng, opening, closing, "right")

    def stereo_human_agent(self, rng):
        """A human agent's voice (Allison Smith) on the right, the callee on the left."""
        return self._stereo(
            rng,
            ["asterisk:en_US_f_Allison/pls-hold-while-try.wav"],
            ["asterisk:en_US_f_Allison/auth-thankyou.wav"],
            "left",
        )


def speech_end(utterances: tuple[Utterance, ...]) -> float:
    """When the last utterance's active speech ends (s)."""
    last = max(utterances, key=lambda u: u.start_s)
    return round(last.start_s + load_phrase(last.phrase).speech_span_s[1], 3)


def _talker(phrases, start: float, rng, level: float, pauses=None) -> tuple[Utterance, ...]:
    """`phrases` one after another from `start` (s), READER_PAUSE_S apart (or `pauses`), all
    at `level` capped so that none clips."""
    level = _cap(phrases, level)
    out, t = [], start
    for k, phrase in enumerate(phrases):
        out.append(Utterance(_frame(t), phrase, level))
        pause = pauses[k] if pauses is not None else _u(rng, READER_PAUSE_S)
        t = _frame(t) + load_phrase(phrase).duration_s + pause
    return tuple(out)


def _span(phrases, pauses) -> float:
    return sum(load_phrase(p).duration_s for p in phrases) + sum(pauses[: len(phrases) - 1])


def _cap(phrases, level: float, headroom_db: float = 0.0) -> float:
    """`level` lowered (to 0.1 dB) so that no phrase peaks within `headroom_db` of full scale."""
    most = min(load_phrase(p).max_level_dbfs for p in phrases) - 0.2 - headroom_db
    return min(round(level, 1), math.floor(most * 10.0) / 10.0)


def _normal(rng) -> float:
    return NORMAL_LEVEL_DBFS + float(rng.uniform(-LEVEL_JITTER_DB, LEVEL_JITTER_DB))


def _dc(rng) -> float:
    return round(float(rng.choice([-1.0, 1.0]) * rng.uniform(*DC_OFFSET)), 3)


def _u(rng, span: tuple[float, float]) -> float:
    return float(rng.uniform(*span))


def _level(rng, span: tuple[float, float]) -> float:
    return round(float(rng.uniform(*span)), 1)


def _frame(seconds: float) -> float:
    """`seconds` rounded to a whole 20 ms frame (s)."""
    return round(round(seconds / FRAME_S) * FRAME_S, 2)

"""The field corpus: sounds, talkers and lines the detectors were not tuned on, for one script.

Made independently of the detector rules, from what the world has: notification chimes and
ring tones on an otherwise silent line, static bursts, handset clicks through a causal
telephone band-pass, a TV in the room, new voices (Russian, Italian) on band-passed mu-law,
A-law and GSM 06.10 lines, distant babble with and without someone talking to us, a talker
over mains hum, a line that cuts in and out (lost packets as exact zeros), and a speakerphone
in a reverberant room. Each call says the outcome a caller or a QA listener expects
(`expect: outcome:`), the prompts said in order (`expect: prompts:`), for a silent line the
times of the prompts and the hang-up (`expect: events:`), and whether it is kept for tuning
or held out (`expect: part:`, about a third held out, stable for a seed).

The classes (`field: class:`) and what a listener expects:

- a: not speech on a silent line (chimes, ring tones, static, clicks): the silent line. A TV
  in the room (distant talker and music, reverberant, -45..-35 dBFS): nobody speaks to us and
  what we hear is the room, as with distant office babble (ivr.synth.realistic): the noisy
  line's outcome.
- b: a talker on a telephone line (mu-law, A-law, GSM), pauses 0.3-1.2 s: answered.
- c: 4-6 distant reverberant talkers alone: the noisy line; a talker 16-30 dB above such
  babble: answered.
- d: a talker at -24 dBFS over 50 Hz hum (and 100-250 Hz harmonics) at about -26 dBFS:
  answered.
- e: a third of the talker's frames lost in 100-300 ms bursts: the choppy line; single lost
  frames (5 %): answered, as a listener hears a click now and then and understands the talker.
- f: a speakerphone in a room (RT60 0.4-0.8 s): answered.

Every level and time is drawn from the documented range below with a generator seeded by the
corpus seed and the call's row, so the corpus renders byte-identically for a seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ivr.audio.format import FRAME_S
from ivr.script.model import Script
from ivr.synth.calls import Utterance
from ivr.synth.field_ranges import (
    BABBLE_POOLS,
    BABBLE_TALKERS,
    CHIME_DBFS,
    CHIME_FIRST_S,
    CHIME_GAP_S,
    CHIMES,
    CHOPPY_TALK_S,
    DISTANT_DRR_DB,
    HELD_OUT_SHARE,
    HUM_DBFS,
    HUM_TALKER_DBFS,
    MUSIC,
    OVER_BABBLE_DB,
    PHRASE_PAUSE_S,
    PHRASES,
    RING_GAP_S,
    RING_TONE,
    ROOM_DBFS,
    ROOM_RT60_S,
    SPEAKERPHONE_DRR_DB,
    STATIC_BURST_MS,
    STATIC_DBFS,
    STATIC_GAP_S,
    TALK_S,
    TV_SPEECH_TO_MUSIC_DB,
    VOICES,
)
from ivr.synth.field_render import ERASED_BURST_MS as ERASED_BURST_MS
from ivr.synth.field_render import ERASED_KEPT_MS as ERASED_KEPT_MS
from ivr.synth.field_render import LOST_FRAME_RATE as LOST_FRAME_RATE
from ivr.synth.field_render import FieldCallSpec, Layer
from ivr.synth.realistic import (
    CLICK_INTERVAL_S,
    CLICK_PEAK_DBFS,
    FAINT_NOISE_DBFS,
    REACTION_S,
    TAIL_S,
    _cap,
    _frame,
    _level,
    _normal,
    _u,
    speech_end,
)
from ivr.synth.script_calls import PromptFrames, ScriptPlan

ROWS = (
    ("a", "chimes", "clean", "chimes", ""),
    ("a", "chimes", "telephone", "chimes", ""),
    ("a", "ring_tone", "telephone_alaw", "ring_tone", ""),
    ("a", "ring_tone", "telephone_gsm", "ring_tone", ""),
    ("a", "static_bursts", "clean", "static", ""),
    ("a", "static_bursts", "telephone_gsm", "static", ""),
    ("a", "band_clicks", "telephone", "clicks", ""),
    ("a", "band_clicks", "telephone_alaw", "clicks", ""),
    ("a", "tv_in_room", "clean", "tv", ""),
    ("a", "tv_in_room", "telephone", "tv", ""),
    ("b", "phone_talker", "telephone", "talker", "ru"),
    ("b", "phone_talker", "telephone_alaw", "talker", "it"),
    ("b", "phone_talker", "telephone_gsm", "talker", "ru"),
    ("b", "phone_talker", "telephone_gsm", "talker", "it"),
    ("c", "babble_alone", "clean", "babble", ""),
    ("c", "babble_alone", "telephone", "babble", ""),
    ("c", "talker_over_babble", "clean", "over_babble", "it"),
    ("c", "talker_over_babble", "telephone_alaw", "over_babble", "ru"),
    ("d", "hum_talker", "clean", "hum", "ru"),
    ("d", "hum_talker", "clean", "hum", "it"),
    ("e", "erased_bursts", "clean", "erased", "it"),
    ("e", "erased_bursts", "telephone", "erased", "ru"),
    ("e", "lost_frames", "clean", "lost", "ru"),
    ("e", "lost_frames", "telephone", "lost", "it"),
    ("f", "speakerphone", "clean", "speakerphone", "it"),
    ("f", "speakerphone", "telephone_gsm", "speakerphone", "ru"),
)
"""The calls, in order: (class, situation, channel, `_Plan` method, voice). Call i is named
`<script>_f<i+1>_<situation>_<channel>`."""

_SALT = 0xF1E1D


def held_out_rows(seed: int = 7) -> frozenset[int]:
    """Rows held out: HELD_OUT_SHARE of each class (rounded), chosen by the seed alone."""
    out: set[int] = set()
    rng = np.random.default_rng([seed, _SALT, 1 << 16])
    for group in sorted({row[0] for row in ROWS}):
        rows = [i for i, row in enumerate(ROWS) if row[0] == group]
        count = round(len(rows) * HELD_OUT_SHARE)
        out.update(int(i) for i in rng.permutation(rows)[:count])
    return frozenset(out)


def field_call_specs(
    script: Script, prompt_frames: PromptFrames, seed: int = 7
) -> list[tuple[FieldCallSpec, dict[str, Any]]]:
    """The field calls for `script`, each with its `expect:` additions (with `part`)."""
    plan = FieldPlan(script, prompt_frames)
    held = held_out_rows(seed)
    out = []
    for i, (group, situation, channel, method, voice) in enumerate(ROWS):
        rng = np.random.default_rng([seed, _SALT, i])
        fields, expect = getattr(plan, method)(rng, voice) if voice else getattr(plan, method)(rng)
        spec = FieldCallSpec(
            name=f"{script.name}_f{i + 1:02d}_{situation}_{channel}",
            situation=situation,
            channel=channel,
            seed=seed * 1000 + 300 + i,
            group=group,
            **fields,
        )
        out.append((spec, {**expect, "part": "held_out" if i in held else "tuning"}))
    return out


class FieldPlan(ScriptPlan):
    """The script's timing, and one method per kind of call: (FieldCallSpec fields, expect).
    Keyword arguments fix a value that is otherwise drawn (for tests over a range)."""

    def _said_s(self, prompts: list[str]) -> float:
        return sum(self.frames(p) for p in prompts) * FRAME_S

    def _line(self, rng, tail=TAIL_S) -> dict[str, Any]:
        """A faint line running TAIL_S past the silent line's hang-up."""
        return {
            "duration_s": _frame(self.hangup_s + _u(rng, tail)),
            "noise": ("pink", "white")[int(rng.integers(2))],
            "noise_dbfs": _level(rng, FAINT_NOISE_DBFS),
        }

    # --- a: not speech on a silent line ---------------------------------------------------

    def chimes(self, rng, level_dbfs: float | None = None, first_s: float | None = None):
        """Notification CHIMES at CHIME_DBFS, the first at CHIME_FIRST_S, CHIME_GAP_S apart;
        with `first_s` and `level_dbfs` given, one chime alone."""
        fields = self._line(rng)
        end = fields["duration_s"] - 2.0
        one = first_s is not None
        t = _u(rng, CHIME_FIRST_S) if first_s is None else first_s
        layers = []
        while t < end:
            name = CHIMES[int(rng.integers(len(CHIMES)))]
            level = _level(rng, CHIME_DBFS) if level_dbfs is None else round(level_dbfs, 1)
            layers.append(Layer("chime", round(t, 3), level, source=name))
            if one:
                break
            t += _u(rng, CHIME_GAP_S)
        return {**fields, "layers": tuple(layers)}, self.no_answer()

    def ring_tone(self, rng):
        """A phone ringing in the room all call long: RING_TONE, RING_GAP_S between rings."""
        fields = self._line(rng)
        level = _level(rng, CHIME_DBFS)
        t, layers = _u(rng, CHIME_FIRST_S), []
        while t < fields["duration_s"] - 1.5:
            layers.append(Layer("ring", round(t, 3), level, source=RING_TONE))
            t += 1.46 + _u(rng, RING_GAP_S)
        return {**fields, "layers": tuple(layers)}, self.no_answer()

    def static(self, rng):
        """Static bursts of STATIC_BURST_MS at STATIC_DBFS, STATIC_GAP_S apart."""
        fields = self._line(rng)
        t, layers = _u(rng, STATIC_GAP_S), []
        while t < fields["duration_s"] - 0.5:
            ms = round(_u(rng, STATIC_BURST_MS), 1)
            layers.append(Layer("static", round(t, 3), _level(rng, STATIC_DBFS), duration_ms=ms))
            t += _u(rng, STATIC_GAP_S)
        return {**fields, "layers": tuple(layers)}, self.no_answer()

    def clicks(self, rng):
        """20 ms handset clicks at CLICK_PEAK_DBFS (peak), CLICK_INTERVAL_S apart."""
        fields = self._line(rng)
        t, layers = _u(rng, CLICK_INTERVAL_S), []
        while t < fields["duration_s"] - 0.1:
            layers.append(Layer("click", round(t, 3), _level(rng, CLICK_PEAK_DBFS)))
            t += _u(rng, CLICK_INTERVAL_S)
        return {**fields, "layers": tuple(layers)}, self.no_answer()

    def tv(self, rng):
        """A TV: one distant talker and MUSIC, TV_SPEECH_TO_MUSIC_DB apart, in a room of
        ROOM_RT60_S at DISTANT_DRR_DB, ROOM_DBFS over the call."""
        fields = self._line(rng)
        pool = BABBLE_POOLS[int(rng.integers(3))]
        layer = Layer(
            "tv",
            0.0,
            _level(rng, ROOM_DBFS),
            source=MUSIC[int(rng.integers(len(MUSIC)))],
            voices=(pool,),
            rt60_s=round(_u(rng, ROOM_RT60_S), 2),
            drr_db=_level(rng, DISTANT_DRR_DB),
            ratio_db=_level(rng, TV_SPEECH_TO_MUSIC_DB),
        )
        return {**fields, "layers": (layer,)}, self.expect("noisy_line", self.noise_prompts)

    # --- talkers --------------------------------------------------------------------------

    def _talk(self, rng, voice: str, level: float, span=TALK_S) -> tuple[Utterance, ...]:
        """The voice's PHRASES in a seeded order from REACTION_S after the opening, PHRASE_PAUSE_S
        apart, until `span` (s) is reached, at `level` (capped so that none clips)."""
        order = [f"{VOICES[voice]}/{PHRASES[k]}.wav" for k in rng.permutation(len(PHRASES))]
        wanted, out, t = _u(rng, span), [], _frame(self.t0 + _u(rng, REACTION_S))
        start = t
        from ivr.synth.speech import load_phrase

        for k in range(100):
            phrase = order[k % len(order)]
            out.append(Utterance(_frame(t), phrase, 0.0))
            t = _frame(t) + load_phrase(phrase).duration_s + _u(rng, PHRASE_PAUSE_S)
            if t - start >= wanted:
                break
        level = _cap(tuple(u.phrase for u in out), level)
        return tuple(Utterance(u.start_s, u.phrase, level) for u in out)

    def _answered(self, rng, talk, prompts=None, **fields) -> dict[str, Any]:
        prompts = self.answer_prompts if prompts is None else prompts
        base = self._line(rng)
        tail = speech_end(talk) + self.eos + self._said_s(prompts) + 6.0 + _u(rng, TAIL_S)
        return {**base, **fields, "duration_s": _frame(tail), "utterances": talk}

    def talker(self, rng, voice: str):
        """(b) A talker at a normal level on the line."""
        talk = self._talk(rng, voice, _normal(rng))
        return self._answered(rng, talk), self.expect("answered", self.answer_prompts)

    def babble(self, rng):
        """(c) BABBLE_TALKERS distant talkers alone, each in a room of ROOM_RT60_S at
        DISTANT_DRR_DB, ROOM_DBFS over the call."""
        fields = self._line(rng)
        layer = self._babble_layer(rng, _level(rng, ROOM_DBFS))
        return {**fields, "layers": (layer,)}, self.expect("noisy_line", self.noise_prompts)

    def _babble_layer(self, rng, level: float) -> Layer:
        count = int(rng.integers(BABBLE_TALKERS[0], BABBLE_TALKERS[1] + 1))
        pools = tuple(BABBLE_POOLS[int(k)] for k in rng.permutation(len(BABBLE_POOLS))[:count])
        return Layer(
            "babble",
            0.0,
            level,
            voices=pools,
            rt60_s=round(_u(rng, ROOM_RT60_S), 2),
            drr_db=_level(rng, DISTANT_DRR_DB),
        )

    def over_babble(self, rng, voice: str, over_db: float | None = None):
        """(c) A talker at a normal level OVER_BABBLE_DB above babble (`over_db` given)."""
        talk = self._talk(rng, voice, _normal(rng))
        over = _u(rng, OVER_BABBLE_DB) if over_db is None else over_db
        layer = self._babble_layer(rng, round(talk[0].level_dbfs - over, 1))
        fields = self._answered(rng, talk, layers=(layer,))
        return fields, self.expect("answered", self.answer_prompts)

    def hum(self, rng, voice: str, hum_dbfs: float | None = None):
        """(d) A talker at HUM_TALKER_DBFS over mains hum at HUM_DBFS (or `hum_dbfs`)."""
        talk = self._talk(rng, voice, _level(rng, HUM_TALKER_DBFS))
        level = _level(rng, HUM_DBFS) if hum_dbfs is None else round(hum_dbfs, 1)
        fields = self._answered(rng, talk, layers=(Layer("hum", 0.0, level),))
        return fields, self.expect("answered", self.answer_prompts)

    def erased(self, rng, voice: str):
        """(e) A talker for CHOPPY_TALK_S whose line loses ERASED_BURST_MS bursts of packets
        ERASED_KEPT_MS apart, from the talker's first word on."""
        talk = self._talk(rng, voice, _normal(rng), CHOPPY_TALK_S)
        fields = self._answered(rng, talk, self.choppy_prompts, erasure="bursts")
        return fields, self.expect("choppy_line", self.choppy_prompts)

    def lost(self, rng, voice: str):
        """(e) A talker whose line loses LOST_FRAME_RATE of single frames at random."""
        talk = self._talk(rng, voice, _normal(rng))
        fields = self._answered(rng, talk, erasure="isolated")
        return fields, self.expect("answered", self.answer_prompts)

    def speakerphone(self, rng, voice: str):
        """(f) A talker on a speakerphone in a room of ROOM_RT60_S at SPEAKERPHONE_DRR_DB."""
        talk = self._talk(rng, voice, _normal(rng))
        room = (round(_u(rng, ROOM_RT60_S), 2), _level(rng, SPEAKERPHONE_DRR_DB))
        fields = self._answered(rng, talk, room=room)
        return fields, self.expect("answered", self.answer_prompts)


def field_call(
    script: Script,
    prompt_frames: PromptFrames,
    method: str,
    seed: int = 7,
    voice: str = "",
    name: str | None = None,
    **fixed: Any,
) -> tuple[FieldCallSpec, dict[str, Any]]:
    """One call of kind `method` (a FieldPlan method: chimes, over_babble, hum, ...) with the
    values in `fixed` instead of drawn ones, e.g. `field_call(s, f, "hum", voice="ru",
    hum_dbfs=-30.0)`."""
    row = next(r for r in ROWS if r[3] == method)
    rng = np.random.default_rng([seed, _SALT, 1 << 20])
    plan = FieldPlan(script, prompt_frames)
    args = (rng, voice or row[4]) if row[4] else (rng,)
    fields, expect = getattr(plan, method)(*args, **fixed)
    spec = FieldCallSpec(
        name=name or f"{script.name}_{method}_{seed}",
        situation=row[1],
        channel=row[2] if "channel" not in fields else fields.pop("channel"),
        seed=seed,
        group=row[0],
        **fields,
    )
    return spec, expect

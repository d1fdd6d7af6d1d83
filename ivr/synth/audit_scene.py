"""A call of `ivr synth --audit` as it is built: turns of speech at known times on the agent's
side and the customer's, and the labels of `ivr audit`'s items (ivr.synth.audit_calls builds
them, ivr.synth.audit_corpus writes them).

An item's expected verdict follows `ivr audit`'s own definitions with its default numbers
(ivr.audit.settings): a failing moment placed makes it `fail`; the items that need a side that
never speaks are `n/a` (interrupting, who hung up first and dead air without the customer; the
silent line when the customer speaks or their line is noisy). The items that need words
follow what the agent's sentences hold (ivr.synth.audit_voices.SENTENCE_SAYS): greeting and
closing fail at the agent's first turn without a greeting and at its last without a closing,
forbidden phrases at each turn holding one, politeness at the agent's first turn when none
holds a politeness word; all three are n/a when the agent never speaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ivr.synth.audit_voices import Clip

AUDIT_ITEMS = (
    "interrupting",
    "late_answer",
    "silent_line",
    "hold",
    "hung_up_first",
    "volume",
    "pace",
    "dead_air",
    "greeting_closing",
    "forbidden",
    "politeness",
)
"""`ivr audit`'s item keys, in scorecard order (ivr.audit.scorecard.ITEMS)."""

WORD_ITEMS = ("greeting_closing", "forbidden", "politeness")
"""Items that need the agent's words (`ivr audit --asr reference` scores them from the labels'
agent_words)."""

PACE_MIN_SPEECH_S = 2.5
"""Less agent speech than this (s: half of pace_window_s) leaves the pace item n/a."""

AGENT_DBFS = (-30.0, -22.0)
"""The agent's level (dBFS, RMS over each clip in the telephone band), inside the standard's
-36..-16."""
CUSTOMER_DBFS = (-32.0, -20.0)
"""The customer's level (dBFS)."""
ANSWER_GAP_S = (0.4, 1.2)
"""From the customer's words to the agent's answer (s): under answer_within_s (2) and
dead_air_s (3)."""
REPLY_GAP_S = (0.4, 1.5)
"""From the agent's words to the customer's reply (s)."""
END_AFTER_S = (2.5, 4.0)
"""From the agent's closing to the end of the recording (s)."""


@dataclass(frozen=True)
class Turn:
    """`clip` said on `side` (agent or customer) from `start_s` (s) at `level_dbfs`."""

    side: str
    start_s: float
    clip: Clip
    level_dbfs: float

    @property
    def end_s(self) -> float:
        """When it ends (s)."""
        return self.start_s + self.clip.seconds


@dataclass(frozen=True)
class Music:
    """Music on hold on the agent's side from `start_s` to `end_s` (s): Asterisk's `track`
    (asterisk-moh-opsound-wav) from `offset_s` (s) into it, at `level_dbfs` (RMS, dBFS)."""

    start_s: float
    end_s: float
    track: str
    offset_s: float
    level_dbfs: float


@dataclass
class Scene:
    """A call being built: its turns, length (s), failing moments per item (s) and whether
    the customer's line is noisy (RMS level, dBFS) or None."""

    kind: str
    rng: np.random.Generator
    turns: list[Turn] = field(default_factory=list)
    duration_s: float = 0.0
    moments: dict[str, list[float]] = field(default_factory=dict)
    customer_noise_dbfs: float | None = None
    music: list[Music] = field(default_factory=list)
    """Music on hold on the agent's side: not the agent's words, labelled as its silence."""

    def uniform(self, span: tuple[float, float]) -> float:
        """A value drawn from `span`, rounded to ms."""
        return round(float(self.rng.uniform(*span)), 3)

    def say(self, side: str, start_s: float, clip: Clip, level: float | None = None) -> Turn:
        """Add `clip` on `side` at `start_s` (s), at `level` (dBFS) or the side's usual."""
        span = AGENT_DBFS if side == "agent" else CUSTOMER_DBFS
        dbfs = level if level is not None else self.uniform(span)
        turn = Turn(side, round(start_s, 3), clip, dbfs)
        self.turns.append(turn)
        return turn

    def after(self, turn: Turn, side: str, clip: Clip, gap: tuple[float, float]) -> Turn:
        """Add `clip` on `side`, a gap drawn from `gap` (s) after `turn` ends."""
        return self.say(side, turn.end_s + self.uniform(gap), clip)

    def fail(self, item: str, moment_s: float) -> None:
        """Label a failing moment of `item` (s)."""
        self.moments.setdefault(item, []).append(round(moment_s, 3))

    def end(self, last: Turn, span: tuple[float, float] = END_AFTER_S) -> None:
        """The recording ends a time drawn from `span` (s) after `last`."""
        self.duration_s = round(last.end_s + self.uniform(span), 3)

    def pick(self, clips: list[Clip]) -> Clip:
        """One of `clips`, drawn."""
        return clips[int(self.rng.integers(len(clips)))]

    def labels(self) -> dict[str, dict[str, object]]:
        """Each item's expected verdict (pass, fail or n/a) and failing moments (s)."""
        customer = any(t.side == "customer" for t in self.turns)
        agent_speech = sum(t.clip.seconds for t in self.turns if t.side == "agent")
        na: set[str] = set()
        words = self._word_moments()
        if words is None:
            na.update(WORD_ITEMS)
        if customer:
            na.add("silent_line")
        else:
            na.update(("interrupting", "hung_up_first", "dead_air"))
        if self.customer_noise_dbfs is not None:
            na.add("silent_line")
        if agent_speech < PACE_MIN_SPEECH_S:
            na.add("pace")
        out: dict[str, dict[str, object]] = {}
        for key in AUDIT_ITEMS:
            moments = sorted(self.moments.get(key, []) + (words or {}).get(key, []))
            verdict = "fail" if moments else "n/a" if key in na else "pass"
            out[key] = {"verdict": verdict, "moments_s": moments}
        return out

    def agent_turns(self) -> list[Turn]:
        """The agent's turns, by start."""
        return sorted((t for t in self.turns if t.side == "agent"), key=lambda t: t.start_s)

    def _word_moments(self) -> dict[str, list[float]] | None:
        """The word items' failing moments (s) from what the agent's turns hold; None when the
        agent never speaks."""
        agent = self.agent_turns()
        if not agent:
            return None
        first, last = agent[0], agent[-1]
        greeting = [] if "greeting" in first.clip.says else [first.start_s]
        closing = [] if "closing" in last.clip.says else [last.start_s]
        polite = any("polite" in t.clip.says for t in agent)
        return {
            "greeting_closing": sorted(set(greeting + closing)),
            "forbidden": [t.start_s for t in agent if "forbidden" in t.clip.says],
            "politeness": [] if polite else [first.start_s],
        }

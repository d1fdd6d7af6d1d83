"""Scoring recorded calls: one call's scorecard, and a batch where a broken file fails alone."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ivr.audio.format import frames_to_seconds
from ivr.audit.scorecard import ITEMS, NO_WORDS, ItemResult, Scorecard, not_applicable
from ivr.audit.settings import AuditSettings
from ivr.audit.sides import CallSides, Recording, analyze_call
from ivr.audit.silent_line import SilentLineRules, silent_line
from ivr.audit.turns import Talk, dead_air, hold, hung_up_first, interrupting, late_answer
from ivr.audit.voice import pace, volume
from ivr.audit.words import bundled_words, word_items
from ivr.call_settings import CallSettings
from ivr.corpus.audit_labels import Utterance
from ivr.detect import Situation
from ivr.errors import IvrError


def silent_line_rules(script: str, settings: AuditSettings) -> SilentLineRules:
    """The silent-line rules of a bundled script name or a script path (ScriptError or
    ValueError when it has none)."""
    from ivr.script.loader import load_script_structure

    return SilentLineRules.of(load_script_structure(script), settings.silent_wait_slack_s)


def score(
    sides: CallSides,
    settings: AuditSettings,
    rules: SilentLineRules,
    utterances: Sequence[Utterance] | None = None,
    bye_from: str | None = None,
) -> Scorecard:
    """The scorecard of a call analysed on both sides; the items that need words scored from
    the agent's `utterances` when given (None: no words, those items n/a); `bye_from`: who
    hung up, when a SIP call log says (`customer` or `agent`)."""
    talk = Talk(sides.agent_speech, sides.customer_speech, sides.frames)
    line = silent_line(talk, settings, rules)
    if sides.customer.classification is Situation.NOISE:
        line = not_applicable("silent_line", "the customer's line is noisy, not silent")
    measured: dict[str, ItemResult] = {
        "interrupting": interrupting(talk, settings),
        "late_answer": late_answer(talk, settings),
        "silent_line": line,
        "hold": _with_music(hold(talk, settings), sides),
        "hung_up_first": hung_up_first(talk, settings, bye_from),
        "volume": volume(sides, settings),
        "pace": pace(sides, settings),
        "dead_air": dead_air(talk, settings),
    }
    measured |= {r.key: r for r in word_items(utterances, bundled_words())}
    results = tuple(measured.get(i.key) or not_applicable(i.key, NO_WORDS) for i in ITEMS)
    return Scorecard(sides.name, frames_to_seconds(sides.frames), results, settings)


def _with_music(result: ItemResult, sides: CallSides) -> ItemResult:
    """The hold item's result, its detail saying how much of what the front end heard as the
    agent speaking was music on hold, not counted as its words (ivr.audit.music), if any."""
    seconds = frames_to_seconds(sum(b - a for a, b in sides.agent_music.stretches))
    if not seconds:
        return result
    music = f"{seconds:.0f} s of music on hold not counted as the agent's words"
    return replace(result, detail=f"{result.detail}; {music}" if result.detail else music)


def audit_call(
    rec: Recording,
    settings: AuditSettings,
    rules: SilentLineRules,
    detect: CallSettings | None = None,
    utterances: Sequence[Utterance] | None = None,
) -> Scorecard:
    """One recording's scorecard (AudioFormatError naming a file that cannot be read); the
    items that need words from the agent's `utterances`, if given."""
    return score(analyze_call(rec, detect), settings, rules, utterances)


@dataclass(frozen=True)
class Outcome:
    """A batch's result for one recording: its scorecard, or the error that stopped it."""

    name: str
    scorecard: Scorecard | None
    error: str | None = None
    picture: Path | None = None
    """The call's picture, when the batch draws them (`ivr audit --report`)."""


def audit_batch(
    recordings: list[Recording],
    settings: AuditSettings,
    rules: SilentLineRules,
    detect: CallSettings | None = None,
) -> Iterator[Outcome]:
    """Each recording's outcome in order; a file that cannot be read fails that one only."""
    for rec in recordings:
        try:
            yield Outcome(rec.name, audit_call(rec, settings, rules, detect))
        except IvrError as exc:
            yield Outcome(rec.name, None, str(exc))

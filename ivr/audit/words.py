"""The items that need the agent's words: greeting and closing (8), forbidden phrases (9),
politeness words (10).

The words are the agent's utterances with their times (s into the call): recognized by a Vosk
model from the agent's speech segments (ivr.audit.hearing), or the reference transcripts of a
labels file (`--asr reference`). Without words the items are n/a, never guessed. Texts are
compared as `ivr lint` compares forbidden phrases (ivr.qa.phrases.normalize: full-/half-width
folded, case-folded, spaces and punctuation removed on both sides); a word matches anywhere
inside an utterance.

- greeting and closing: the agent's first utterance holds a greeting of
  `prompts/service_words.yaml` (您好, 早上好 ...), failed at its start; the agent's last holds a
  closing (再见, 谢谢您的来电 ...), failed at its start.
- forbidden phrases: each agent utterance holding a phrase of `prompts/forbidden.yaml` fails the
  item at its start, naming the phrase (a phrase inside a longer one found too is named once,
  as `ivr lint` does).
- politeness words: the call fails when none of the agent's utterances holds a politeness word
  (请, 您, 谢谢, 不客气, 对不起 ...), at the agent's first words; it is about the whole call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ivr.audit.scorecard import ItemResult, failed, not_applicable, passed
from ivr.corpus.audit_labels import Utterance
from ivr.errors import IvrError
from ivr.qa.phrases import ForbiddenPhrase, find_forbidden, load_forbidden, normalize
from ivr.script.loader import PROMPTS_DIR
from ivr.yamlfile import read_yaml

SERVICE_WORDS_PATH = PROMPTS_DIR / "service_words.yaml"
"""The bundled greetings, closings and politeness words, each with its seed line."""

KINDS = ("greetings", "closings", "politeness")


@dataclass(frozen=True)
class ServiceWords:
    """What the word items listen for: each list's words (as written), and the forbidden
    phrases."""

    greetings: tuple[str, ...]
    closings: tuple[str, ...]
    politeness: tuple[str, ...]
    forbidden: tuple[ForbiddenPhrase, ...]


def load_service_words(path: Path | None = None, forbidden: Path | None = None) -> ServiceWords:
    """The service words of `path` (default: the bundled list) and the forbidden phrases of
    `forbidden` (default: prompts/forbidden.yaml); IvrError naming the file when malformed."""
    path = path or SERVICE_WORDS_PATH
    data = read_yaml(path, "service-word list")
    if not isinstance(data, dict):
        raise IvrError(f"{path}: expected a mapping with {', '.join(KINDS)}")
    lists = []
    for kind in KINDS:
        entries = data.get(kind)
        if not isinstance(entries, list) or not entries:
            raise IvrError(f"{path}: {kind}: expected a list of {{text, source}}")
        words = []
        for i, entry in enumerate(entries):
            text = entry.get("text") if isinstance(entry, dict) else None
            if not isinstance(text, str) or not normalize(text):
                raise IvrError(f"{path}: {kind}[{i}]: expected a text, got {entry!r}")
            words.append(text)
        lists.append(tuple(words))
    return ServiceWords(*lists, tuple(load_forbidden(forbidden)))


@cache
def bundled_words() -> ServiceWords:
    """The bundled lists, read once per process."""
    return load_service_words()


def _holds(text: str, words: Sequence[str]) -> str | None:
    """The first of `words` inside `text` (both normalized), if any."""
    plain = normalize(text)
    return next((w for w in words if normalize(w) in plain), None)


def greeting_closing(utterances: Sequence[Utterance], words: ServiceWords) -> ItemResult:
    """Item 8: a greeting in the agent's first utterance, a closing in the last."""
    key = "greeting_closing"
    spoken = [u for u in utterances if normalize(u.text)]
    if not spoken:
        return not_applicable(key, "no words of the agent were heard")
    first, last = spoken[0], spoken[-1]
    moments, missing = [], []
    if _holds(first.text, words.greetings) is None:
        moments.append(first.start_s)
        missing.append(f"no greeting in the first words ({first.text!r})")
    if _holds(last.text, words.closings) is None:
        moments.append(last.start_s)
        missing.append(f"no closing in the last words ({last.text!r})")
    if moments:
        return failed(key, sorted(set(moments)), "; ".join(missing))
    return passed(key)


def forbidden_phrases(utterances: Sequence[Utterance], words: ServiceWords) -> ItemResult:
    """Item 9: each agent utterance holding a forbidden phrase, at its start."""
    key = "forbidden"
    if not any(normalize(u.text) for u in utterances):
        return not_applicable(key, "no words of the agent were heard")
    moments, said = [], []
    for utterance in utterances:
        as_written = utterance.text.replace("{", "{{").replace("}", "}}")  # no placeholders
        found = find_forbidden(as_written, words.forbidden)
        if found:
            moments.append(utterance.start_s)
            said += [f"{p.text} at {utterance.start_s:.1f} s" for p in found]
    if moments:
        return failed(key, moments, "said " + ", ".join(said))
    return passed(key)


def politeness(utterances: Sequence[Utterance], words: ServiceWords) -> ItemResult:
    """Item 10: a politeness word somewhere in the agent's words."""
    key = "politeness"
    spoken = [u for u in utterances if normalize(u.text)]
    if not spoken:
        return not_applicable(key, "no words of the agent were heard")
    for utterance in spoken:
        word = _holds(utterance.text, words.politeness)
        if word is not None:
            return passed(key, f"{word} at {utterance.start_s:.1f} s")
    return failed(key, [spoken[0].start_s], "no politeness word in the agent's words")


def word_items(utterances: Sequence[Utterance] | None, words: ServiceWords) -> list[ItemResult]:
    """Items 8-10 from the agent's utterances; n/a (with why) when there are no words."""
    if utterances is None:
        return []
    return [
        greeting_closing(utterances, words),
        forbidden_phrases(utterances, words),
        politeness(utterances, words),
    ]

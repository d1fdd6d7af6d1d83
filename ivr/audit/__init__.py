"""`ivr audit`: recorded calls of human agents scored against the service standard.

Both sides of a call go through the same front end as replay (ivr.audit.sides); the items are
measured from their speech segments and levels (ivr.audit.turns, ivr.audit.silent_line,
ivr.audit.voice) by the standard's numbers (ivr.audit.settings) into a scorecard
(ivr.audit.scorecard). The items that need words (ivr.audit.words) score the agent's
utterances, recognized by a Vosk model (ivr.audit.hearing) or from reference transcripts; without
words they are n/a.
"""

from ivr.audit.run import Outcome, audit_batch, audit_call, score, silent_line_rules
from ivr.audit.scorecard import ITEMS, ItemResult, Scorecard, Verdict
from ivr.audit.settings import AuditSettings, load_audit_settings
from ivr.audit.sides import Recording, analyze_call, recording

__all__ = [
    "ITEMS",
    "AuditSettings",
    "ItemResult",
    "Outcome",
    "Recording",
    "Scorecard",
    "Verdict",
    "analyze_call",
    "audit_batch",
    "audit_call",
    "load_audit_settings",
    "recording",
    "score",
    "silent_line_rules",
]

"""Campaigns: dialing a call list, with calling hours, retries and a do-not-call list.

The pure parts, exported here: the call list (`read_call_list`), the do-not-call list
(`read_do_not_call`), the calling hours (`CallingHours`) and the campaign's state from its
call log (`CampaignPlan`, with its `RetryPolicy`). Opening a campaign (`setup`) and its loop
over worker processes (`runner`) are imported from their modules.
"""

from ivr.campaign.calllist import (
    CallList,
    CallRow,
    national_number,
    phone_digits,
    read_call_list,
)
from ivr.campaign.donotcall import DoNotCall, read_do_not_call
from ivr.campaign.hours import CallingHours, parse_days
from ivr.campaign.plan import (
    DONE,
    FRESH,
    PENDING,
    SKIPPED,
    STATUSES,
    WAITING,
    Attempt,
    CampaignPlan,
    RetryPolicy,
    attempt_of,
    attempts_from_log,
)

__all__ = [
    "DONE",
    "FRESH",
    "PENDING",
    "SKIPPED",
    "STATUSES",
    "WAITING",
    "Attempt",
    "CallList",
    "CallRow",
    "CallingHours",
    "CampaignPlan",
    "DoNotCall",
    "RetryPolicy",
    "attempt_of",
    "attempts_from_log",
    "national_number",
    "parse_days",
    "phone_digits",
    "read_call_list",
    "read_do_not_call",
]

"""Where a SIP call stands: the one vocabulary of call states (ivr.sip.call keeps it)."""

from __future__ import annotations

from enum import StrEnum


class CallState(StrEnum):
    """Where a SIP call stands (the values are what a call's log and views show)."""

    CALLING = "calling"
    """Our INVITE is sent and nothing but 100 Trying (if that) came back."""
    RINGING = "ringing"
    """The other side rings (180/183: early state)."""
    INCOMING = "incoming"
    """A call came in and we have not answered it."""
    CONNECTED = "connected"
    """Answered and confirmed (ACK): media flows."""
    ENDED = "ended"
    """Over, by either side, or never set up."""


WAITING = (CallState.CALLING, CallState.RINGING, CallState.INCOMING)
"""The states of a call not answered yet."""

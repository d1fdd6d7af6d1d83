"""What an incoming INVITE must be before an agent takes it as a call, and how fast calls may
come in (`Gate`).

pjsip takes a UDP request's body to be the rest of the packet, whatever its Content-Length
says: an INVITE that declares `Content-Length: 99999` over a 200-byte SDP is answered like any
other. RFC 3261 (18.3) says a request whose packet ends before the body it declares is an error
and SHOULD be answered 400 (Bad Request); the agent does so before the call is offered to
anyone. A Content-Length smaller than the body is left to pjsip (the RFC has the extra bytes
discarded; pjsip keeps them).
"""

from __future__ import annotations

import collections
from typing import Any

BAD_REQUEST = 400
"""The final response a malformed INVITE gets."""

_MAX_DIGITS = 9
"""A Content-Length of more digits than this is larger than any UDP packet (bytes)."""


def bad_request(message: str) -> str:
    """Why `message` (a request as it came in one UDP packet) must be refused 400, or ''."""
    head, sep, body = message.partition("\r\n\r\n")
    if not sep:
        head, sep, body = message.partition("\n\n")
    declared = None
    for line in head.splitlines()[1:]:
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() in ("content-length", "l"):  # "l": compact form
            declared = value.strip()
            break
    if declared is None:
        return ""
    if not declared.isdigit():
        return f"Content-Length {declared[:20]!r} is not a number"
    size = len(body.encode("utf-8", "surrogateescape"))
    if len(declared) > _MAX_DIGITS or int(declared) > size:
        shown = declared if len(declared) <= _MAX_DIGITS else f"{declared[:_MAX_DIGITS]}..."
        return f"Content-Length {shown} but the body has {size} bytes"
    return ""


SOCKETS_FREED_AFTER_S = 0.5
"""How long (s) pjlib keeps the slot of a socket that closed before another socket may have it
(PJ_IOQUEUE_KEY_FREE_DELAY)."""

REFUSE_AFTER_S = 0.25
"""How long (s) an incoming call the agent refuses keeps its call slot before the refusal goes
out. Every INVITE given a call slot opens two sockets (RTP, RTCP) out of pjmedia's 64
(PJ_IOQUEUE_MAX_HANDLES; past them the wheel's pjlib aborts the process), each kept
SOCKETS_FREED_AFTER_S after it closes: a slot freed at once goes to the next INVITE of a flood,
and refusing 100 INVITEs a second that way ran out of them. Held, the INVITEs beyond the slots
are refused by pjsua itself (486, before any socket is opened)."""

CALLS_PER_WINDOW = 4
"""Incoming calls that may reach the SIP stack within SOCKETS_FREED_AFTER_S: one more, and the
agent leaves SIP unread for that long (it waits in the socket's buffer), so that calls that end
as fast as they come (INVITE and CANCEL in one breath) cannot run pjmedia out of sockets."""


class Gate:
    """An agent's door for incoming calls: the calls it refuses, each once it has held its call
    slot REFUSE_AFTER_S, and a pause in reading SIP when calls come faster than their sockets
    are given back. Times are s, monotonic."""

    def __init__(self) -> None:
        self.refused: collections.Counter[int] = collections.Counter()
        """Incoming calls refused, by the SIP status they got (400, 486)."""
        self._refusing: collections.deque[tuple[float, Any, int]] = collections.deque()
        self._arrivals: collections.deque[float] = collections.deque()
        self._closed_until = 0.0

    def arrived(self, now: float) -> None:
        """A call came in."""
        arrivals = self._arrivals
        arrivals.append(now)
        while arrivals[0] <= now - SOCKETS_FREED_AFTER_S:
            arrivals.popleft()
        if len(arrivals) > CALLS_PER_WINDOW:
            self._closed_until = now + SOCKETS_FREED_AFTER_S

    def closed(self, now: float) -> bool:
        """Whether SIP should be left unread now."""
        return now < self._closed_until

    def refuse(self, call: Any, status: int, now: float) -> None:
        """Refuse `call` with `status` at now + REFUSE_AFTER_S."""
        self._refusing.append((now + REFUSE_AFTER_S, call, status))

    def due(self, now: float | None = None) -> list[tuple[Any, int]]:
        """The refusals due by `now` (None: all of them), taken out."""
        out = []
        while self._refusing and (now is None or self._refusing[0][0] <= now):
            _, call, status = self._refusing.popleft()
            out.append((call, status))
        return out

"""A SIP caller made of raw UDP packets on 127.0.0.1, for requests no well-behaved user agent
sends: an INVITE whose Content-Length overruns its body, an INVITE cancelled in the same breath.

It speaks just enough SIP for one call at a time: INVITE (with a G.711 offer), CANCEL, ACK
(for a refusal or for an answer), BYE, and reads the responses to them.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from dataclasses import dataclass, field

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


@dataclass(frozen=True)
class Response:
    status: int
    method: str
    """The CSeq method it answers (INVITE, CANCEL, BYE)."""
    to_tag: str


@dataclass
class Dialog:
    """One call as the caller knows it."""

    call_id: str
    branch: str
    from_tag: str
    target: str
    """HOST:PORT called."""
    to_tag: str = ""
    responses: list[Response] = field(default_factory=list)


class UdpCaller:
    """A caller on its own UDP port; `rtp_port`: a port it names in its offer (nobody reads it)."""

    def __init__(self, number: str = "13800000009") -> None:
        self.number = number
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp_port = self.rtp.getsockname()[1]

    def __enter__(self) -> UdpCaller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        self.rtp.close()

    def _send(self, dialog: Dialog, text: str) -> None:
        host, port = dialog.target.rsplit(":", 1)
        self.sock.sendto(text.encode(), (host, int(port)))

    def _request(
        self, dialog: Dialog, method: str, cseq: int, branch: str, extra: str = "", body: str = ""
    ) -> str:
        to_tag = f";tag={dialog.to_tag}" if dialog.to_tag and method != "CANCEL" else ""
        return (
            f"{method} sip:hotline@{dialog.target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch}\r\n"
            f"From: <sip:{self.number}@127.0.0.1:{self.port}>;tag={dialog.from_tag}\r\n"
            f"To: <sip:hotline@{dialog.target}>{to_tag}\r\n"
            f"Call-ID: {dialog.call_id}\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:{self.number}@127.0.0.1:{self.port}>\r\nMax-Forwards: 70\r\n"
            f"{extra}\r\n{body}"
        )

    def invite(self, target: str, content_length: str | None = None) -> Dialog:
        """Send an INVITE to HOST:PORT; `content_length`: what its header says (default: the
        body's true length)."""
        key = uuid.uuid4().hex
        dialog = Dialog(key, f"z9hG4bK{key[:12]}", key[12:20], target)
        body = SDP.format(port=self.rtp_port)
        length = content_length if content_length is not None else str(len(body))
        extra = f"Content-Type: application/sdp\r\nContent-Length: {length}\r\n"
        self._send(dialog, self._request(dialog, "INVITE", 1, dialog.branch, extra, body))
        return dialog

    def cancel(self, dialog: Dialog) -> None:
        """CANCEL the INVITE (its own branch, as RFC 3261 9.1 asks)."""
        extra = "Content-Length: 0\r\n"
        self._send(dialog, self._request(dialog, "CANCEL", 1, dialog.branch, extra))

    def ack(self, dialog: Dialog, answered: bool) -> None:
        """ACK the INVITE's final response (an answer's ACK is a transaction of its own)."""
        branch = f"z9hG4bK{uuid.uuid4().hex[:12]}" if answered else dialog.branch
        self._send(dialog, self._request(dialog, "ACK", 1, branch, "Content-Length: 0\r\n"))

    def bye(self, dialog: Dialog) -> None:
        branch = f"z9hG4bK{uuid.uuid4().hex[:12]}"
        self._send(dialog, self._request(dialog, "BYE", 2, branch, "Content-Length: 0\r\n"))

    def final(self, dialog: Dialog, method: str = "INVITE", timeout_s: float = 10.0) -> int:
        """Wait for the final response to `method` of the call; its status (0: none came)."""
        give_up = time.monotonic() + timeout_s
        while time.monotonic() < give_up:
            for response in dialog.responses:
                if response.method == method and response.status >= 200:
                    return response.status
            self.sock.settimeout(max(0.01, give_up - time.monotonic()))
            try:
                data = self.sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                break
            self._take(dialog, data)
        return 0

    def _take(self, dialog: Dialog, text: str) -> None:
        status = re.match(r"SIP/2\.0 (\d{3})", text)
        call_id = re.search(r"^(?:Call-ID|i):\s*(\S+)", text, re.M | re.I)
        if not status or not call_id or call_id.group(1) != dialog.call_id:
            return  # a request (a BYE of ours to answer is not needed here) or another call
        cseq = re.search(r"^CSeq:\s*\d+\s+(\w+)", text, re.M | re.I)
        tag = re.search(r"^(?:To|t):.*;tag=([^;\s]+)", text, re.M | re.I)
        response = Response(
            int(status.group(1)), cseq.group(1) if cseq else "", tag.group(1) if tag else ""
        )
        dialog.responses.append(response)
        if response.to_tag and response.method == "INVITE":
            dialog.to_tag = response.to_tag

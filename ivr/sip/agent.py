"""Our SIP user agent: PJSIP (pjsua2) with no sound card, calls whose audio is our own port.

One `SipAgent` is one pjsua2 endpoint (one per process): a UDP transport, an account that does
not register (calls go straight to `sip:user@host:port`, incoming calls come to
`sip:anything@host:port`), G.711 only (PCMU, then PCMA), the null sound device. SIP events are
handled only on the agent's thread, the one that made it, in `poll` (`mainThreadOnly`); other
threads (one per call, when several run at once) hand their pjsua2 work to it with `run`. The
audio of each call flows through a `FramePort`, whose two callbacks run on PJSIP's media clock
thread every 20 ms. The conference bridge runs at 16 kHz and converts to and from the line's
8 kHz G.711.

Incoming calls pass its `Gate` (ivr.sip.guard) first: a malformed INVITE is refused, every
refusal waits a moment holding its call slot, and a flood is read no faster than pjmedia gives
its sockets back.

pjsua2 is imported only when an agent is made: it is a binary wheel that not every install
needs. Rules its bindings impose (breaking them crashes the process): no exception may leave a
callback; calls and ports are dropped before the endpoint is destroyed.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from ivr.audio.format import FRAME_MS, SAMPLE_RATE
from ivr.errors import DeviceError
from ivr.sip.bindings import classes
from ivr.sip.frames import FRAME_BYTES, FramePort, IdlePort
from ivr.sip.guard import Gate
from ivr.sip.limits import max_calls, shorten_transaction_timeout
from ivr.sip.states import CallState

if TYPE_CHECKING:
    from ivr.sip.call import SipCall

__all__ = ["FRAME_BYTES", "FramePort", "SipAgent"]

T = TypeVar("T")

MEDIA_QUALITY = 4
"""pjsua's media quality (0-10; its default 8): 3-4 resample with libresample's small filter
instead of the large one. A G.711 call's 8 kHz audio is resampled to and from our 16 kHz on
every frame of every call; the small filter passes the telephone band as well and saves about
half a percent of a core per call (tools/bench.py --only sip)."""

GIL_SWITCH_S = 0.001
"""Python's thread switch interval while an agent runs (s; Python's default is 0.005): the
media clock thread waits at most about this long for the interpreter when calls' sessions
keep it busy, instead of 5 ms per busy thread."""

LINGER_S = 60.0
"""How long (s) a call we are done with may stay up, its hang-up never confirmed by the other
side, before the agent stops counting it among its calls."""

MAX_CALLS = 32
"""Calls asked for per agent (pjsua2's default is 4; the build may allow fewer: `max_calls`)."""

PJ_ERRNO_START_SYS = 120000
"""pjlib's status for an operating system error E is PJ_ERRNO_START_SYS + E (errno)."""


def _pj() -> Any:
    try:
        import pjsua2
    except ImportError as exc:
        raise DeviceError(f"no SIP stack: {exc}; install the pjsua2-python wheel") from None
    return pjsua2


def _start_failure(host: str, port: int, status: int, info: str) -> str:
    """One line saying why the agent could not start on HOST:PORT and what to do."""
    if status == PJ_ERRNO_START_SYS + errno.EADDRINUSE:
        return (
            f"UDP port {port} on {host} is already in use (another ivr still running?): "
            f"`ss -ulpn 'sport = :{port}'` shows which process holds it; stop it, or give "
            "--listen another HOST:PORT (port 0: any free one)"
        )
    if status == PJ_ERRNO_START_SYS + errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: give --listen one of its own"
    return f"cannot start the SIP agent on {host}:{port}: {info}"


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Within: the process's standard output (file descriptor 1) goes nowhere."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as nowhere:
            os.dup2(nowhere.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class SipAgent:
    """A pjsua2 endpoint on `host` (UDP port `port`, 0: any free one); `proxy`, a SIP URI
    every outgoing call is sent through (an outbound proxy such as Kamailio), or None.
    `answers`: whether incoming calls are kept for someone to take (`incoming`); an agent that
    only places calls refuses them (486), and any agent refuses a malformed INVITE (400) and
    paces a flood (ivr.sip.guard)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = "ivr",
        proxy: str | None = None,
        answers: bool = True,
    ) -> None:
        pj = self.pj = _pj()
        self.ep: Any = None
        self.answers = answers
        self.gate = Gate()
        self._thread = threading.get_ident()
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future]] = queue.SimpleQueue()
        self.incoming: collections.deque[SipCall] = collections.deque()
        """Calls that came in and wait to be taken (by `ivr serve`)."""
        self.calls: list[SipCall] = []
        self.failed_incoming: list[str] = []
        """Why each incoming call that failed before it became a call failed (in order)."""
        self._ports: list[Any] = []  # audio ports no call uses now
        self._port_count = 0
        self.short_timeout = shorten_transaction_timeout(pj)
        self._switch_s = sys.getswitchinterval()  # put back when the agent closes
        sys.setswitchinterval(min(self._switch_s, GIL_SWITCH_S))
        ep = pj.Endpoint()
        with _quiet_stdout():  # pjlib greets on stdout before its log level can be set
            ep.libCreate()
        self.ep = ep
        try:
            self._start(host, port, user, proxy)
        except pj.Error as exc:
            self.close()
            raise DeviceError(_start_failure(host, port, exc.status, exc.info())) from None

    def _start(self, host: str, port: int, user: str, proxy: str | None) -> None:
        pj, ep = self.pj, self.ep
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = MAX_CALLS
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 0  # failures come back as statuses and exceptions
        media = cfg.medConfig
        media.clockRate = media.sndClockRate = SAMPLE_RATE
        media.audioFramePtime = 20
        media.channelCount = 1
        media.noVad = True
        media.ecTailLen = 0
        media.quality = MEDIA_QUALITY
        ep.libInit(cfg)
        transport = pj.TransportConfig()
        transport.port = port
        transport.boundAddress = transport.publicAddress = host
        tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
        self.host = host
        self.port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[-1])
        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            name = codec.codecId
            rank = 255 if name.startswith("PCMU/") else 254 if name.startswith("PCMA/") else 0
            ep.codecSetPriority(name, rank)
        account = pj.AccountConfig()
        account.idUri = f"sip:{user}@{host}:{self.port}"
        account.regConfig.registerOnAdd = False
        if proxy:
            account.sipConfig.proxies.append(proxy if ";lr" in proxy else f"{proxy};lr")
        account.mediaConfig.transportConfig.port = 0  # any free RTP port, whatever else runs
        account.mediaConfig.transportConfig.boundAddress = host
        account.mediaConfig.transportConfig.publicAddress = host
        account.mediaConfig.lockCodecEnabled = False
        self.max_calls = max_calls(pj)
        """Calls this agent may hold at once (the build's limit)."""
        _, _, pj_account = classes(pj)
        self.account = pj_account(self)
        self.account.create(account)

    @property
    def address(self) -> str:
        """Where the agent takes calls: HOST:PORT."""
        return f"{self.host}:{self.port}"

    def on_agent_thread(self) -> bool:
        """Whether the caller is the agent's own thread."""
        return threading.get_ident() == self._thread

    def run(self, job: Callable[[], T]) -> T:
        """Do `job` (pjsua2 work) on the agent's thread, waiting for it; its result."""
        if self.on_agent_thread():
            return job()
        if self.ep is None:
            raise DeviceError("the SIP agent has stopped")
        done: Future[T] = Future()
        self._jobs.put((job, done))
        return done.result()

    def poll(self, ms: int = 10) -> None:
        """Handle SIP events for up to `ms` milliseconds, then the jobs other threads handed in,
        then drop the calls that ended and were forgotten (on the agent's thread only)."""
        if self.gate.closed(time.monotonic()):
            time.sleep(ms / 1000)  # SIP waits in the socket's buffer meanwhile
        else:
            self.ep.libHandleEvents(ms)
        self._run_jobs()
        now = time.monotonic()
        self._refuse(self.gate.due(now))
        done = [
            c
            for c in self.calls
            if c.forgotten is not None
            and (c.state == CallState.ENDED or now - c.forgotten > LINGER_S)
        ]
        for call in done:
            self.calls.remove(call)
            call.release()

    @property
    def lingering(self) -> int:
        """Calls their owners are done with that still hold a slot (hang-up not confirmed)."""
        return sum(1 for c in self.calls if c.forgotten is not None)

    def wait(self, frames: FramePort, ms: int, count: int = 1) -> None:
        """Wait up to `ms` milliseconds for a call's news: on the agent's thread by handling SIP
        events, on a call's own thread by waiting for `count` frames (or `ms` more than they
        take to come) or news."""
        if self.on_agent_thread():
            self.poll(ms)
        else:
            frames.wait((ms + count * FRAME_MS) / 1000, count)

    def _run_jobs(self) -> None:
        while True:
            try:
                job, done = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not done.set_running_or_notify_cancel():
                continue
            try:
                done.set_result(job())
            except BaseException as exc:
                done.set_exception(exc)

    def incoming_call(self, call_id: int, source: str, message: str = "") -> None:
        """A call came in (SIP thread) with its INVITE `message`: keep it for whoever
        serves, or refuse it (a malformed INVITE, or an agent that does not answer)."""
        from ivr.sip.call import REFUSED, SipCall
        from ivr.sip.guard import BAD_REQUEST, bad_request

        call = SipCall.incoming(self, call_id, source)
        self.gate.arrived(time.monotonic())
        if bad_request(message):
            self.refuse(call, BAD_REQUEST)
        elif not self.answers:
            self.refuse(call, REFUSED)
        else:
            self.incoming.append(call)

    def incoming_failed(self, reason: str) -> None:
        """Taking an incoming call in failed (SIP thread) for `reason`: it never became a
        call. Kept for whoever serves (`failed_incoming`); never raises."""
        self.failed_incoming.append(reason)

    def refuse(self, call: SipCall, status: int) -> None:
        """Refuse an incoming call with `status` (486, 400) once it has kept its call slot for
        ivr.sip.guard.REFUSE_AFTER_S (its caller hears 100 Trying until then); the agent is
        done with it."""
        self.gate.refuse(call, status, time.monotonic())

    @property
    def refused(self) -> collections.Counter[int]:
        """Incoming calls refused, by the SIP status they got (400, 486)."""
        return self.gate.refused

    def _refuse(self, refusals: list[tuple[SipCall, int]]) -> None:
        for call, status in refusals:
            if call.answer(status):
                self.gate.refused[status] += 1
            self.forget(call)

    def port_for(self, frames: FramePort) -> Any:
        """An audio port for a call's `frames` (agent thread). Ports are kept for the agent's
        life and handed from call to call: the media clock may still call a port in the tick
        after the bridge let go of it, so one is never destroyed while calls go on."""
        if self._ports:
            port = self._ports.pop()
        else:
            media_port, _, _ = classes(self.pj)
            self._port_count += 1
            port = media_port(IdlePort(), f"ivr{self._port_count}")
        port.frames = frames
        return port

    def return_port(self, port: Any) -> None:
        """A call is done with `port` (agent thread): it hears and says nothing until reused."""
        port.frames = IdlePort()
        self._ports.append(port)

    def _drop_ports(self) -> None:
        """Let go of the audio ports once the endpoint is destroyed (its media clock stopped).

        A port is never destroyed while the clock runs: its destructor takes it off the
        bridge with the interpreter lock released, and a tick that calls it meanwhile found
        its Python half already half gone (``'MediaPort' object has no attribute 'frames'``).
        After the endpoint is gone its destructor would take it off a bridge that no longer
        exists (pjmedia asserts), so the C++ half is left to the process's end: a few hundred
        bytes a port, its memory pool already freed with the endpoint's."""
        for port in self._ports:
            port.thisown = False
        self._ports.clear()

    def forget(self, call: SipCall) -> None:
        """Drop a call's pjsua2 objects once it has ended (from any thread; a call hung up
        from our side ends when the other side confirms, or its transaction times out)."""
        call.forgotten = time.monotonic()

    def close(self) -> None:
        """Hang up what is still up, drop calls and ports, destroy the endpoint (agent thread)."""
        if self.ep is None:
            return
        self._refuse(self.gate.due())
        for call in list(self.calls):
            call.hang_up()
        for _ in range(10):
            self.poll(10)
        sys.last_type = sys.last_value = sys.last_traceback = None
        for call in list(self.calls):
            call.release()
        self.calls.clear()
        self.incoming.clear()
        if getattr(self, "account", None) is not None:
            self.account.shutdown()
            self.account = None
        self._run_jobs()
        self.ep.libDestroy(self.pj.PJSUA_DESTROY_NO_RX_MSG)
        self._drop_ports()
        self.ep = None
        sys.setswitchinterval(self._switch_s)

"""A network that plays a tone before the answer, for tests: a pjsua2 agent of its own (run
as `python tests/helpers/early_media_network.py PORT WAV`) that takes each call with 183 Session
Progress, plays the WAV (16 kHz int16) as early media, and refuses the call with 480 once the
WAV has played, as a switch does after its busy tone or announcement. It prints `ready` when
it listens on 127.0.0.1:PORT."""

from __future__ import annotations

import sys
import time

import numpy as np
import soundfile as sf

from ivr.sip.agent import SipAgent
from ivr.sip.states import CallState


def main() -> None:
    port, wav = int(sys.argv[1]), sys.argv[2]
    tone, rate = sf.read(wav, dtype="int16")
    assert rate == 16000
    tone = tone[: tone.size // 320 * 320]
    agent = SipAgent(port=port, user="network")
    print("ready", flush=True)
    playing: list[tuple[object, float]] = []
    try:
        while True:
            agent.poll(10)
            while agent.incoming:
                call = agent.incoming.popleft()
                call.answer(183)
                call.frames.play(np.asarray(tone))
                playing.append((call, time.monotonic() + tone.size / rate))
            for call, until in list(playing):
                if time.monotonic() > until or call.state == CallState.ENDED:
                    call.answer(480)
                    agent.forget(call)
                    playing.remove((call, until))
    except KeyboardInterrupt:
        pass
    finally:
        agent.close()


if __name__ == "__main__":
    main()

"""The calls of `ivr synth --audit`: agents' recorded calls with labelled violations.

Each call is a `Scene` (ivr.synth.audit_scene): turns of speech on the agent's side (left) and
the customer's (right) at known times (s), its length (s), and for each item of `ivr audit`'s
scorecard the verdict the standard gives it and the moments that fail it, by the definitions
`ivr audit` states (ivr.audit.turns, silent_line, voice) with its default numbers
(`ivr.audit.settings.AuditSettings`) and the inbound script's silent-line rules (greeting,
稍停五秒, greeting again, 稍停五秒, closing, 稍停五秒, hang up; waits 4.5-5.5 s). Where a
violation is placed, its size is drawn from a range kept clear of the threshold (see each
kind), so that the label does not depend on the detectors' frame or two at a segment's edge.

The kinds (`KINDS`, each a function here), in corpus order:

- clean_inbound, clean_outbound: no violation; back-channels (好的) over the customer and a
  turn change overlapping the customer by 0.1-0.2 s.
- interrupt_short, interrupt_long: the agent starts over the customer, overlapping them by
  0.9-1.3 s or 1.8-3.0 s (item interrupting, at the agent's start).
- late_hellos: three 喂 before the agent's first words (late_answer, at the third's start);
  late_wait: one, and the agent 2.4-2.7 s after it (late_answer, at its end).
- hold_updated: holds of 15-25 s broken by updates, under 60 s in all (no violation);
  hold_silent: 32-45 s without an update (hold, at the silence's start); hold_long: updates
  every 22-26 s, three silences, over 60 s in all (hold, at its first silence).
- hold_music (last in corpus order): a silence of 32-45 s filled with Asterisk's music on
  hold at -30..-16 dBFS (hold, at the silence's start: music is not the agent speaking).
- hangup_mid: the recording ends in the customer's words; hangup_after: 0.6-1.4 s after their
  last words with no closing (hung_up_first, at the recording's end).
- quiet_agent, loud_agent: two of the agent's answers at -42..-39 or -12..-10 dBFS (volume,
  at each such turn's start).
- fast_agent: all the agent's speech time-compressed 1.8-2.0x, pitch kept (pace, at the
  agent's first words).
- dead_air: the agent answers the customer's question after 3.6-6.0 s (dead_air, at the
  customer's end).
- silent_ok, silent_noisy: a silent line handled as the script says, the second with loud
  noise on the customer's line (no violation; silent_line n/a on the noisy one);
  silent_no_repeat: the greeting and hang up (silent_line, at the greeting's end);
  silent_too_soon: the greeting repeated after 2.0-2.8 s (at the first greeting's end);
  silent_cut: hung up 0.3-1.0 s after the closing (at the closing's end).
- no_greeting: the agent answers the 喂 without a greeting (greeting_closing, at its first
  words); forbidden_words: an answer holds two of seed 001's 服务禁语 (forbidden, at its
  start); impolite: a plain greeting and goodbye, no politeness word (politeness, at the
  agent's first words).

The items that need words are labelled on every call from what the agent's sentences hold
(ivr.synth.audit_scene): the calls that end without a closing (hangup_mid, hangup_after,
silent_no_repeat, ...) fail greeting_closing there too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ivr.audio.format import SAMPLE_RATE
from ivr.synth.audit_scene import ANSWER_GAP_S, REPLY_GAP_S, Music, Scene, Turn
from ivr.synth.audit_voices import BACKCHANNELS, Clip, faster, human_clips, tts_clip
from ivr.synth.field_audio import load_sound

MOH_TRACKS = (
    "macroform-cold_day.wav",
    "macroform-robot_dity.wav",
    "macroform-the_simplicity.wav",
    "manolo_camp-morning_coffee.wav",
    "reno_project-system.wav",
)
"""Asterisk's music on hold (asterisk-moh-opsound-wav, /usr/share/asterisk/moh)."""

MUSIC_DBFS = (-30.0, -16.0)
"""The music's level on the agent's side (dBFS, RMS): from under the agent's voice to
above it, as a hold plays it."""


def _hello_clips() -> list[Clip]:
    """Short customer turns (a 喂 or a word: 0.8-2 s)."""
    return human_clips(0.8, 2.0)


def _long_clips() -> list[Clip]:
    """Customer turns and agents' answers of 2.4 s and more."""
    return human_clips(2.4)


def _opening(scene: Scene, agent_first: bool) -> Turn:
    """The call's start: the customer's 喂 and the agent's greeting, or the greeting alone;
    the greeting is returned."""
    if agent_first:
        return scene.say("agent", scene.uniform((0.3, 0.8)), tts_clip("greeting"))
    hello = scene.say("customer", scene.uniform((0.3, 0.8)), scene.pick(_hello_clips()))
    return scene.after(hello, "agent", tts_clip("greeting"), ANSWER_GAP_S)


def _exchange(scene: Scene, last: Turn, backchannel: bool = False) -> Turn:
    """The customer asks (a long turn), the agent answers (a recorded voice); the answer is
    returned. `backchannel`: the agent says 好的 over the middle of the question."""
    ask = scene.after(last, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
    if backchannel:
        word = tts_clip(BACKCHANNELS[int(scene.rng.integers(len(BACKCHANNELS)))])
        scene.say("agent", ask.start_s + scene.uniform((0.5, ask.clip.seconds - 1.2)), word)
    return scene.after(ask, "agent", scene.pick(_long_clips()), ANSWER_GAP_S)


def _closing(scene: Scene, last: Turn) -> Turn:
    """The customer's last words, the agent's thanks and goodbye; the recording ends after."""
    words = scene.after(last, "customer", scene.pick(_hello_clips()), REPLY_GAP_S)
    bye = scene.after(words, "agent", tts_clip("thanks"), ANSWER_GAP_S)
    scene.end(bye)
    return bye


def clean_inbound(scene: Scene) -> None:
    """The customer's 喂, greeting, two questions answered (a back-channel in the first, the
    second answer starting 0.1-0.2 s before the customer's end), closing."""
    answer = _exchange(scene, _opening(scene, False), backchannel=True)
    ask = scene.after(answer, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
    reply = scene.say("agent", ask.end_s - scene.uniform((0.1, 0.2)), scene.pick(_long_clips()))
    _closing(scene, reply)


def clean_outbound(scene: Scene) -> None:
    """The agent speaks first; a question answered with a back-channel; closing."""
    _closing(scene, _exchange(scene, _opening(scene, True), backchannel=True))


def _interrupt(scene: Scene, overlap: tuple[float, float]) -> None:
    """The agent starts `overlap` (s) before the customer's long turn ends."""
    answer = _exchange(scene, _opening(scene, False))
    ask = scene.after(answer, "customer", scene.pick(human_clips(overlap[1] + 0.8)), REPLY_GAP_S)
    outlasting = human_clips(overlap[1] + 0.3)  # the agent talks on after the customer stops
    over = scene.say("agent", ask.end_s - scene.uniform(overlap), scene.pick(outlasting))
    scene.fail("interrupting", over.start_s)
    _closing(scene, over)


def interrupt_short(scene: Scene) -> None:
    """Over the customer for 0.9-1.3 s (the standard allows 0.5)."""
    _interrupt(scene, (0.9, 1.3))


def interrupt_long(scene: Scene) -> None:
    """Over the customer for 1.8-3.0 s."""
    _interrupt(scene, (1.8, 3.0))


def late_hellos(scene: Scene) -> None:
    """Three 喂, 0.5-0.9 s apart, before the agent's greeting."""
    hello = scene.say("customer", scene.uniform((0.3, 0.8)), scene.pick(_hello_clips()))
    for _ in range(2):
        hello = scene.after(hello, "customer", scene.pick(_hello_clips()), (0.5, 0.9))
    scene.fail("late_answer", hello.start_s)
    greeting = scene.after(hello, "agent", tts_clip("greeting"), ANSWER_GAP_S)
    _closing(scene, _exchange(scene, greeting))


def late_wait(scene: Scene) -> None:
    """One 喂, the greeting 2.4-2.7 s after it (over answer_within_s 2, under dead_air_s 3)."""
    hello = scene.say("customer", scene.uniform((0.3, 0.8)), scene.pick(_hello_clips()))
    scene.fail("late_answer", hello.end_s)
    greeting = scene.after(hello, "agent", tts_clip("greeting"), (2.4, 2.7))
    _closing(scene, _exchange(scene, greeting))


def _hold(scene: Scene, silences: list[float]) -> Turn:
    """A question, the agent's 请您稍等片刻, silences (s) broken by its updates, the answer
    (a recorded voice); the answer is returned."""
    answer = _exchange(scene, _opening(scene, False))
    ask = scene.after(answer, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
    said = scene.after(ask, "agent", tts_clip("hold"), ANSWER_GAP_S)
    starts = []
    for silence in silences[:-1]:
        starts.append(said.end_s)
        said = scene.say("agent", said.end_s + silence, tts_clip("update"))
    starts.append(said.end_s)
    back = scene.say("agent", said.end_s + silences[-1], scene.pick(_long_clips()))
    for start, silence in zip(starts, silences, strict=True):
        if silence > 30.0:
            scene.fail("hold", start)
    first = round(starts[0], 3)
    if back.start_s - starts[0] > 60.0 and first not in scene.moments.get("hold", []):
        scene.fail("hold", first)
    return back


def hold_updated(scene: Scene) -> None:
    """Two silences of 15-25 s, an update between them: under 60 s in all."""
    _closing(scene, _hold(scene, [scene.uniform((15.0, 25.0)) for _ in range(2)]))


def hold_silent(scene: Scene) -> None:
    """One silence of 32-45 s (the standard: an update every 30 s)."""
    _closing(scene, _hold(scene, [scene.uniform((32.0, 45.0))]))


def hold_music(scene: Scene) -> None:
    """One silence of 32-45 s filled with music on hold (a track of Asterisk's, drawn, at
    MUSIC_DBFS) from 0.3-0.8 s after the agent's 请您稍等片刻 to 0.3-0.8 s before it is back:
    hold, at the silence's start, as without the music (it is not the agent speaking)."""
    back = _hold(scene, [scene.uniform((32.0, 45.0))])
    wait_from = scene.agent_turns()[-2].end_s
    start, end = wait_from + scene.uniform((0.3, 0.8)), back.start_s - scene.uniform((0.3, 0.8))
    track = scene.pick(list(MOH_TRACKS))
    length_s = load_sound("moh", track).size / SAMPLE_RATE
    offset = scene.uniform((0.0, max(0.0, length_s - (end - start))))
    level = scene.uniform(MUSIC_DBFS)
    scene.music.append(Music(round(start, 3), round(end, 3), track, offset, level))
    _closing(scene, back)


def hold_long(scene: Scene) -> None:
    """Three silences of 22-26 s with updates: 66-78 s and more in all (over 60 s)."""
    _closing(scene, _hold(scene, [scene.uniform((22.0, 26.0)) for _ in range(3)]))


def hangup_mid(scene: Scene) -> None:
    """The recording ends 40-70 % into the customer's last turn."""
    answer = _exchange(scene, _opening(scene, False))
    words = scene.after(answer, "customer", scene.pick(human_clips(3.0)), REPLY_GAP_S)
    scene.duration_s = round(words.start_s + words.clip.seconds * scene.uniform((0.4, 0.7)), 3)
    scene.fail("hung_up_first", scene.duration_s)


def hangup_after(scene: Scene) -> None:
    """The recording ends 0.6-1.4 s after the customer's last words, the agent silent."""
    answer = _exchange(scene, _opening(scene, False))
    words = scene.after(answer, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
    scene.end(words, (0.6, 1.4))
    scene.fail("hung_up_first", scene.duration_s)


def _off_level(scene: Scene, level: tuple[float, float]) -> None:
    """Two answers (recorded voices, 2.4 s and more) at `level` (dBFS)."""
    last = _opening(scene, False)
    for _ in range(2):
        ask = scene.after(last, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
        start = ask.end_s + scene.uniform(ANSWER_GAP_S)
        last = scene.say("agent", start, scene.pick(_long_clips()), scene.uniform(level))
        scene.fail("volume", last.start_s)
    _closing(scene, last)


def quiet_agent(scene: Scene) -> None:
    """Two answers at -42..-39 dBFS (the standard's quietest: -36)."""
    _off_level(scene, (-42.0, -39.0))


def loud_agent(scene: Scene) -> None:
    """Two answers at -12..-10 dBFS (the standard's loudest: -16)."""
    _off_level(scene, (-12.0, -10.0))


def fast_agent(scene: Scene) -> None:
    """The customer's 喂; two answers, all the agent says, time-compressed 1.8-2.0x (pitch
    kept), 4.5-7 s of speech in all: one stretch for the pace item, failing at its start."""
    speed = scene.uniform((1.8, 2.0))
    fast = [faster(c, speed) for c in _long_clips()]
    pairs = [(a, b) for a in fast for b in fast if 4.5 <= a.seconds + b.seconds <= 7.0]
    first, second = pairs[int(scene.rng.integers(len(pairs)))]
    hello = scene.say("customer", scene.uniform((0.3, 0.8)), scene.pick(_hello_clips()))
    answer = scene.after(hello, "agent", first, ANSWER_GAP_S)
    scene.fail("pace", answer.start_s)
    ask = scene.after(answer, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
    scene.end(scene.after(ask, "agent", second, ANSWER_GAP_S))


def dead_air(scene: Scene) -> None:
    """The customer's question answered after 3.6-6.0 s (dead_air_s: 3)."""
    answer = _exchange(scene, _opening(scene, False))
    ask = scene.after(answer, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
    scene.fail("dead_air", ask.end_s)
    _closing(scene, scene.after(ask, "agent", scene.pick(_long_clips()), (3.6, 6.0)))


def _silent(scene: Scene, waits: list[float], hangup: tuple[float, float]) -> list[Turn]:
    """The agent's prompts on a silent line: the greeting, `waits` (s) apart (the last one
    before the closing), the recording ending `hangup` (s) after the last; the prompts."""
    prompts = [scene.say("agent", scene.uniform((0.3, 0.8)), tts_clip("greeting"))]
    for i, wait in enumerate(waits):
        clip = tts_clip("no_sound" if i == len(waits) - 1 else "greeting")
        prompts.append(scene.say("agent", prompts[-1].end_s + wait, clip))
    scene.end(prompts[-1], hangup)
    return prompts


STANDARD_WAIT_S = (4.8, 5.2)
"""A re-prompt's wait on a silent line (s): the inbound script's 4.5-5.5 s."""
STANDARD_HANGUP_S = (5.2, 6.0)
"""From the closing to the hang-up (s): the script pauses 5 s."""


def silent_ok(scene: Scene) -> None:
    """Greeting, 稍停五秒, greeting, 稍停五秒, closing, 5.2-6.0 s, hang up."""
    _silent(scene, [scene.uniform(STANDARD_WAIT_S) for _ in range(2)], STANDARD_HANGUP_S)


def silent_noisy(scene: Scene) -> None:
    """silent_ok with white noise at -38..-34 dBFS on the customer's line: a noisy line,
    nobody talking, not a silent one."""
    silent_ok(scene)
    scene.customer_noise_dbfs = scene.uniform((-38.0, -34.0))


def silent_no_repeat(scene: Scene) -> None:
    """The greeting, then hung up 5.2-6.0 s later (不可以直接挂机)."""
    prompts = _silent(scene, [], STANDARD_HANGUP_S)
    scene.fail("silent_line", prompts[0].end_s)


def silent_too_soon(scene: Scene) -> None:
    """The greeting repeated after 2.0-2.8 s (the script: 4.5-5.5)."""
    waits = [scene.uniform((2.0, 2.8)), scene.uniform(STANDARD_WAIT_S)]
    prompts = _silent(scene, waits, STANDARD_HANGUP_S)
    scene.fail("silent_line", prompts[0].end_s)


def silent_cut(scene: Scene) -> None:
    """Hung up 0.3-1.0 s after the closing (the script pauses 5 s)."""
    prompts = _silent(scene, [scene.uniform(STANDARD_WAIT_S) for _ in range(2)], (0.3, 1.0))
    scene.fail("silent_line", prompts[-1].end_s)


def no_greeting(scene: Scene) -> None:
    """The customer's 喂 answered straight away by a recorded voice, no greeting (greeting
    and closing, at the agent's first words); the rest as usual, a closing at the end."""
    hello = scene.say("customer", scene.uniform((0.3, 0.8)), scene.pick(_hello_clips()))
    first = scene.after(hello, "agent", scene.pick(_long_clips()), ANSWER_GAP_S)
    _closing(scene, _exchange(scene, first))


def forbidden_words(scene: Scene) -> None:
    """One of the agent's answers is 你不明白吗我不是跟你说得很清楚了吗 (seed 001 服务禁语;
    forbidden phrases, at its start)."""
    answer = _exchange(scene, _opening(scene, False))
    ask = scene.after(answer, "customer", scene.pick(_long_clips()), REPLY_GAP_S)
    _closing(scene, scene.after(ask, "agent", tts_clip("forbidden"), ANSWER_GAP_S))


def impolite(scene: Scene) -> None:
    """A plain 早上好有什么事, a recorded answer, a plain 就这样吧再见: greeted and closed, but
    without one politeness word (politeness, at the agent's first words)."""
    hello = scene.say("customer", scene.uniform((0.3, 0.8)), scene.pick(_hello_clips()))
    greeting = scene.after(hello, "agent", tts_clip("plain_greeting"), ANSWER_GAP_S)
    answer = _exchange(scene, greeting)
    words = scene.after(answer, "customer", scene.pick(_hello_clips()), REPLY_GAP_S)
    scene.end(scene.after(words, "agent", tts_clip("plain_bye"), ANSWER_GAP_S))


KINDS: dict[str, Callable[[Scene], None]] = {
    f.__name__: f
    for f in (
        clean_inbound,
        clean_outbound,
        interrupt_short,
        interrupt_long,
        late_hellos,
        late_wait,
        hold_updated,
        hold_silent,
        hold_long,
        hangup_mid,
        hangup_after,
        quiet_agent,
        loud_agent,
        fast_agent,
        dead_air,
        silent_ok,
        silent_noisy,
        silent_no_repeat,
        silent_too_soon,
        silent_cut,
        no_greeting,
        forbidden_words,
        impolite,
        hold_music,
    )
}
"""Every kind of call, in corpus order: call i is of kind i modulo their number."""


def build_scene(kind: str, rng: np.random.Generator) -> Scene:
    """A call of `kind` (a KINDS name) drawn with `rng` (ValueError for an unknown kind)."""
    if kind not in KINDS:
        raise ValueError(f"invalid kind: {kind!r} (expected one of {', '.join(KINDS)})")
    scene = Scene(kind, rng)
    KINDS[kind](scene)
    scene.turns.sort(key=lambda t: (t.start_s, t.side))
    return scene

"""The turn-taking items at their thresholds' edges: a frame (20 ms) either side of each
setting's value, on timelines of speech segments (the items' input, exact to the frame; the
front end's edges on real speech are tested in test_audit_items.py, within 100 ms).

The thresholds are the settings' own values (AuditSettings defaults), read here, never
numbers tuned to the generator; hypothesis draws where the call's turns fall."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from ivr.audio.format import ms_to_frames
from ivr.audit import AuditSettings, Verdict
from ivr.audit.turns import Talk, dead_air, hold, hung_up_first, interrupting, late_answer
from ivr.audit.voice import TURN_PAUSE_S, agent_turns
from ivr.events import Segment

SETTINGS = AuditSettings()
EDGE = st.sampled_from([-1, 1])
"""A frame under the threshold (within it: pass) or over it (fail)."""
STARTS = st.integers(min_value=25, max_value=500)
"""Where a scene starts (frames: 0.5-10 s into the call)."""
TURNS = st.integers(min_value=60, max_value=300)
"""Turn lengths (frames: 1.2-6 s, longer than a back-channel)."""


def frames(seconds: float) -> int:
    return ms_to_frames(seconds * 1000)


def seg(start: int, end: int) -> Segment:
    return Segment(start, end, -26.0, 40.0, -66.0, end - start)


@given(start=STARTS, turn=TURNS, beyond=st.integers(0, 200), edge=EDGE)
def test_interrupting_at_the_overlap_edge(start, turn, beyond, edge):
    beyond += frames(SETTINGS.backchannel_max_s) + 1  # the agent's turn is no back-channel
    overlap = frames(SETTINGS.overlap_max_s) + edge
    customer = seg(start, start + turn)
    agent_start = customer.end - overlap
    if agent_start <= customer.start:
        agent_start = customer.start + 1
        customer = seg(start, agent_start + overlap)
    agent = seg(agent_start, customer.end + beyond)
    talk = Talk([agent], [customer], agent.end + 100)
    verdict = interrupting(talk, SETTINGS).verdict
    assert verdict is (Verdict.FAIL if edge > 0 else Verdict.PASS)


@given(start=STARTS, turn=TURNS, edge=EDGE)
def test_a_back_channel_at_its_length_edge(start, turn, edge):
    length = frames(SETTINGS.backchannel_max_s) + edge
    customer = seg(start, start + turn + length + 50)
    agent = seg(start + 20, start + 20 + length)  # inside the customer's turn
    talk = Talk([agent], [customer], customer.end + 100)
    verdict = interrupting(talk, SETTINGS).verdict
    assert verdict is (Verdict.FAIL if edge > 0 else Verdict.PASS)


@given(start=STARTS, hello=st.integers(10, 60), edge=EDGE)
def test_late_answer_at_the_wait_edge(start, hello, edge):
    customer = seg(start, start + hello)
    first = customer.end + frames(SETTINGS.answer_within_s) + edge
    talk = Talk([seg(first, first + 100)], [customer], first + 200)
    verdict = late_answer(talk, SETTINGS).verdict
    assert verdict is (Verdict.FAIL if edge > 0 else Verdict.PASS)


@given(start=STARTS, more=st.sampled_from([-1, 0]))
def test_late_answer_at_the_hello_count_edge(start, more):
    count = SETTINGS.hello_turns + more  # one 喂 short of the count, or the count
    hellos = [seg(start + 30 * i, start + 30 * i + 20) for i in range(count)]
    first = hellos[-1].end + 10  # answered quickly after the last one
    talk = Talk([seg(first, first + 100)], hellos, first + 200)
    verdict = late_answer(talk, SETTINGS).verdict
    assert verdict is (Verdict.FAIL if more == 0 else Verdict.PASS)


@given(start=STARTS, turn=TURNS, edge=EDGE)
def test_dead_air_at_the_silence_edge(start, turn, edge):
    customer = seg(start, start + turn)
    answer = customer.end + frames(SETTINGS.dead_air_s) + edge
    agent = [seg(1, start - 5), seg(answer, answer + turn)]
    talk = Talk(agent, [customer], answer + turn + 200)
    verdict = dead_air(talk, SETTINGS).verdict
    assert verdict is (Verdict.FAIL if edge > 0 else Verdict.PASS)


@given(start=STARTS, turn=TURNS, edge=EDGE)
def test_hold_at_the_update_edge(start, turn, edge):
    please_wait = seg(start, start + turn)
    update = please_wait.end + frames(SETTINGS.hold_update_s) + edge
    agent = [please_wait, seg(update, update + turn)]
    customer = [seg(1, start - 5), seg(update + turn + 20, update + turn + 100)]
    talk = Talk(agent, customer, update + turn + 300)
    verdict = hold(talk, SETTINGS).verdict
    assert verdict is (Verdict.FAIL if edge > 0 else Verdict.PASS)


@given(start=STARTS, turn=TURNS, edge=EDGE)
def test_hung_up_first_at_the_wait_edge(start, turn, edge):
    customer = seg(start + turn + 10, start + 2 * turn)
    end = customer.end + frames(SETTINGS.hangup_after_customer_s) + edge
    talk = Talk([seg(start, start + turn)], [customer], end)
    verdict = hung_up_first(talk, SETTINGS).verdict
    assert verdict is (Verdict.PASS if edge > 0 else Verdict.FAIL)


def test_hold_joins_holds_broken_by_updates_until_the_customer_speaks():
    agent_turn = frames(2.0)
    gap = frames(SETTINGS.hold_update_s) - 50  # each gap within the update rule
    agent, t = [seg(50, 50 + agent_turn)], 50 + agent_turn
    while (agent[-1].start - agent[0].end) * 0.02 <= SETTINGS.hold_max_s:
        agent.append(seg(t + gap, t + gap + agent_turn))
        t = agent[-1].end
    customer = [seg(1, 40), seg(t + 20, t + 200)]
    result = hold(Talk(agent, customer, t + 400), SETTINGS)
    assert result.verdict is Verdict.FAIL
    assert result.moments == (agent[0].end_s,)


def quiet(start: int, end: int, dbfs: float) -> Segment:
    return Segment(start, end, dbfs, 20.0, dbfs - 20.0, end - start)


@given(
    start=STARTS,
    pieces=st.lists(st.integers(10, frames(SETTINGS.backchannel_max_s)), min_size=2, max_size=5),
    edge=EDGE,
)
def test_a_turn_read_out_in_pieces_is_one_turn_up_to_the_pause_edge(start, pieces, edge):
    # digits read out: every piece shorter than a back-channel, together more than one
    pause = frames(TURN_PAUSE_S) + edge
    agent, at = [], start
    for length in pieces:
        agent.append(quiet(at, at + length, -40.0))
        at += length + pause
    turns = agent_turns(agent, [])
    assert len(turns) == (1 if edge < 0 else len(pieces))
    assert turns[0].start_s == agent[0].start_s
    assert abs(turns[0].level_dbfs - -40.0) < 1e-9


@given(start=STARTS, turn=TURNS)
def test_the_customer_speaking_in_a_pause_parts_two_turns(start, turn):
    first = quiet(start, start + turn, -30.0)
    second = quiet(first.end + 20, first.end + 20 + turn, -30.0)
    assert len(agent_turns([first, second], [])) == 1
    customer = seg(first.end + 5, first.end + 15)
    assert len(agent_turns([first, second], [customer])) == 2


def test_a_turns_level_is_its_pieces_powers_weighted_by_length():
    turn = agent_turns([quiet(0, 100, -30.0), quiet(110, 410, -40.0)], [])[0]
    expected = 10 * math.log10((100 * 10**-3.0 + 300 * 10**-4.0) / 400)
    assert abs(turn.level_dbfs - expected) < 1e-9
    assert turn.speech_s == 8.0

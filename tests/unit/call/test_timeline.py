"""Timeline records: every kind to JSON and back, today's timeline files read and written back
byte for byte, and the measures derived from a hand-made call, to the frame."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ivr.timeline import (
    KINDS,
    RECORD_CLASSES,
    BargeIn,
    CallStarted,
    CallTimeline,
    DialogEventRecord,
    EchoIgnored,
    HoldEnded,
    HoldStarted,
    HungUp,
    InputGain,
    InputIgnored,
    LineTone,
    ListenStarted,
    ListenWindow,
    MachineDetected,
    MaxSpeech,
    OutputVolume,
    PauseFinished,
    PauseStarted,
    PromptFinished,
    PromptOut,
    PromptStarted,
    PromptWindow,
    Recognized,
    SpeakingAtDeadline,
    SpeechContinues,
    SpeechEnded,
    SpeechIgnored,
    SpeechStarted,
    StateEntered,
    StillListening,
    Streams,
    TimelineFormatError,
    UtteranceIgnored,
    VadEnd,
    VadOpen,
    VadStart,
    read_timeline,
    record_from_json,
    record_to_json,
    write_timeline,
)

EVERY_KIND = [
    CallStarted(0, None, "outbound"),
    StateEntered(0, "opening"),
    PromptStarted(0, "opening", "opening"),
    PromptFinished(756, "opening"),
    PauseStarted(1099, "answered", 2.0),
    PauseFinished(1199, "answered"),
    InputGain(833, "opening", 6.0),
    OutputVolume(292, "greeting", 6.0),
    ListenStarted(756, "opening", 18.12),
    HungUp(1199, "answered", "answered", "confirm #1 in opening"),
    HungUp(3, None, "aborted", "interrupted (Ctrl-C)"),
    Recognized(851, "s", "是的", "confirm", 0.93, False, "", [["是的", 15.7, 16.1, 0.9]], "是的"),
    Recognized(851, "opening", "", None, 0.0, True, "low confidence", [], "嗯"),
    MaxSpeech(1256, "opening"),
    SpeakingAtDeadline(426, "greeting", 1, -21.85, 44.54),
    BargeIn(75, "ask"),
    SpeechIgnored(456, "greeting", 9.02),
    SpeechIgnored(1862, "opening", 36.62, 36.86, 0.06),
    SpeechStarted(211, "greeting", 4.12),
    SpeechContinues(405, "greeting", 8.1, 7.56),
    SpeechContinues(760, "opening", 15.12),
    SpeechEnded(271, "greeting", 5.0, -20.25, 46.72),
    UtteranceIgnored(900, "opening", "too faint", 2, -58.5, 7.25),
    InputIgnored(40, "opening", "dtmf", "5"),
    DialogEventRecord(426, "greeting", "noinput", 1, floor_dbfs=-68.1),
    DialogEventRecord(290, "greeting", "speech", 1, pieces=1, level_dbfs=-20.25, snr_db=46.72),
    DialogEventRecord(300, "opening", "noinput", 2),
    DialogEventRecord(310, "opening", "dtmf", 1, key="#"),
    VadStart(211, 4.12),
    VadEnd(271, 4.12, 5.0, -20.25, 46.72, -66.97),
    VadEnd(1377, 0.5, 27.12, -20.41, 9.57, -29.98, peak_snr_db=11.02, heard_as="noise"),
    VadOpen(1617, 5.86, 32.22, -39.7, 7.31, -47.01, "noise", peak_snr_db=7.87),
    PromptOut(870, "thanks_goodbye", 41.3, 2.5),
    Streams(1200, 0, 1),
    EchoIgnored(77, None),
    EchoIgnored(78, -12.5),
    LineTone(300, "opening", "ringback", 1.0, 451.2),
    MachineDetected(113, None, "machine", "LONGGREETING-1500-1500"),
    HoldStarted(400, "lookup", 45.0),
    HoldEnded(2650, "lookup", "returned"),
    StillListening(520, "request", 1.2),
]


def test_every_kind_is_covered_and_goes_to_json_and_back():
    assert {type(r) for r in EVERY_KIND} == set(RECORD_CLASSES)
    for record in EVERY_KIND:
        data = record_to_json(record)
        assert list(data)[:3] == ["t", "frame", "event"]
        assert data["event"] == record.event
        assert record_from_json(json.loads(json.dumps(data))) == record


def test_state_and_optional_details_are_left_out_when_none_other_nulls_are_written():
    assert record_to_json(CallStarted(0, None, "outbound")) == {
        "t": 0.0, "frame": 0, "event": "call_started", "script": "outbound",
    }  # fmt: skip
    assert list(record_to_json(SpeechIgnored(456, "greeting", 9.02))) == [
        "t", "frame", "event", "state", "speech_start_s",
    ]  # fmt: skip
    assert record_to_json(EVERY_KIND[12])["intent"] is None  # a recognition without an intent
    assert record_to_json(EchoIgnored(77, None))["coupling_db"] is None


def test_each_record_knows_its_event_and_whether_the_script_handles_it():
    assert PromptStarted(0, "s", "p").event == "prompt_started"
    assert DialogEventRecord(5, "s", "confirm", 1).event == "confirm"
    records = (DialogEventRecord(5, "s", "noinput", 1), VadStart(5, 0.1))
    assert [r.is_dialog_event for r in records] == [True, False]
    assert PromptFinished(756, "s").t == 15.12 and set(KINDS) >= {"vad_start", "hangup"}


TODAY = "".join(
    line + "\n"
    for line in (
        '{"t":0.0,"frame":0,"event":"call_started","script":"inbound"}',
        '{"t":0.0,"frame":0,"event":"state_entered","state":"greeting"}',
        '{"t":0.0,"frame":0,"event":"prompt_started","state":"greeting","prompt":"greeting"}',
        '{"t":3.52,"frame":176,"event":"prompt_finished","state":"greeting"}',
        '{"t":3.52,"frame":176,"event":"listen_started","state":"greeting","deadline_s":8.52}',
        '{"t":4.22,"frame":211,"event":"vad_start","speech_start_s":4.12}',
        '{"t":4.22,"frame":211,"event":"speech_started","state":"greeting","speech_start_s":4.12}',
        (
            '{"t":5.42,"frame":271,"event":"vad_end","speech_start_s":4.12,"speech_end_s":5.0,'
            '"level_dbfs":-20.25,"snr_db":46.72,"floor_dbfs":-66.97}'
        ),
        (
            '{"t":5.42,"frame":271,"event":"recognized","state":"greeting","text":"是的,我是",'
            '"intent":null,"confidence":1.0,"rejected":false,"reason":"reference transcript",'
            '"words":[],"free_text":"是的,我是"}'
        ),
        (
            '{"t":5.42,"frame":271,"event":"speech_ended","state":"greeting","speech_end_s":5.0,'
            '"level_dbfs":-20.25,"snr_db":46.72}'
        ),
        (
            '{"t":5.8,"frame":290,"event":"speech","state":"greeting","count":1,"pieces":1,'
            '"level_dbfs":-20.25,"snr_db":46.72}'
        ),
        '{"t":5.84,"frame":292,"event":"output_volume","state":"greeting","db":6.0}',
        (
            '{"t":8.1,"frame":405,"event":"speech_continues","state":"greeting",'
            '"speech_start_s":8.1,"began_s":7.56}'
        ),
        (
            '{"t":8.52,"frame":426,"event":"speaking_at_deadline","state":"greeting","pieces":1,'
            '"level_dbfs":-21.85,"snr_db":44.54}'
        ),
        '{"t":8.52,"frame":426,"event":"noinput","state":"greeting","count":1,"floor_dbfs":-68.1}',
        '{"t":9.12,"frame":456,"event":"speech_ignored","state":"greeting","speech_start_s":9.02}',
        '{"t":15.2,"frame":760,"event":"speech_continues","state":"opening","speech_start_s":15.12}',
        '{"t":16.66,"frame":833,"event":"input_gain","state":"opening","db":6.0}',
        '{"t":25.12,"frame":1256,"event":"max_speech","state":"opening"}',
        (
            '{"t":37.24,"frame":1862,"event":"speech_ignored","state":"opening",'
            '"speech_start_s":36.62,"speech_end_s":36.86,"heard_s":0.06}'
        ),
        '{"t":38.18,"frame":1909,"event":"pause_started","state":"goodbye","seconds":2.0}',
        '{"t":40.18,"frame":2009,"event":"pause_finished","state":"goodbye"}',
        (
            '{"t":40.18,"frame":2009,"event":"hangup","state":"goodbye","outcome":"answered",'
            '"reason":"speech #1 in greeting"}'
        ),
    )
)
"""Lines of timelines `ivr replay` wrote before the records were typed (the bundled scripts'
sample calls), one of each kind and shape of record."""


def test_a_timeline_file_of_today_reads_back_and_writes_out_byte_identically(tmp_path: Path):
    original = tmp_path / "call.timeline.jsonl"
    original.write_text(TODAY, encoding="utf-8")
    records = read_timeline(original)
    assert len(records) == TODAY.count("\n")
    assert isinstance(records[10], DialogEventRecord) and records[10].event == "speech"
    again = tmp_path / "again.timeline.jsonl"
    write_timeline(again, records)
    assert again.read_bytes() == original.read_bytes()
    # a segment of a file written before segments were judged: taken for the callee's speech
    assert records[7].heard_as is None and records[7].peak_snr_db is None
    assert CallTimeline(records).callee_speech == [(4.12, 5.0)]


def test_numbers_are_masked_in_the_file_unless_shown(tmp_path: Path):
    heard = [Recognized(5, "s", "13812345678", None, 0.5, False, "", [], "13812345678")]
    write_timeline(tmp_path / "masked.jsonl", heard)
    write_timeline(tmp_path / "shown.jsonl", heard, show_numbers=True)
    assert "13812345678" not in (tmp_path / "masked.jsonl").read_text(encoding="utf-8")
    assert "138****5678" in (tmp_path / "masked.jsonl").read_text(encoding="utf-8")
    assert read_timeline(tmp_path / "shown.jsonl") == heard


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"t":0.0,"frame":0,"event":"teleported"}', "unknown timeline record kind 'teleported'"),
        ('{"t":0.0,"frame":0,"event":"prompt_started","state":"s"}', "without prompt"),
        ('{"t":0.0,"frame":0,"event":"barge_in","state":"s","x":1}', r"unknown fields: \['x'\]"),
        ("[1, 2]", "not a JSON object"),
        ("{not json", "Expecting property name"),
    ],
)
def test_a_line_that_is_not_a_record_names_file_line_and_kind(tmp_path: Path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(TODAY.splitlines()[0] + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(TimelineFormatError, match=message) as caught:
        read_timeline(path)
    assert str(caught.value).startswith(f"{path}:2: ")


def hand_made_call() -> list:
    """A silent opening window, a re-prompt, an answer at 9.8 s to speech ending at 9.0 s."""
    return [
        CallStarted(0, None, "outbound"),
        StateEntered(0, "opening"),
        PromptStarted(0, "opening", "opening"),
        PromptFinished(150, "opening"),
        ListenStarted(150, "opening", 6.0),
        DialogEventRecord(300, "opening", "noinput", 1, floor_dbfs=-70.0),
        PromptStarted(300, "opening", "again"),
        PromptFinished(400, "opening"),
        ListenStarted(400, "opening", 10.0),
        VadStart(420, 8.3),
        SpeechStarted(420, "opening", 8.3),
        VadEnd(460, 8.3, 9.0, -20.0, 40.0, -60.0),
        SpeechEnded(460, "opening", 9.0, -20.0, 40.0),
        DialogEventRecord(490, "opening", "speech", 1, pieces=1, level_dbfs=-20.0, snr_db=40.0),
        StateEntered(490, "answered"),
        PromptStarted(490, "answered", "thanks"),
        PromptFinished(600, "answered"),
        PauseStarted(600, "answered", 2.0),
        PauseFinished(700, "answered"),
        HungUp(700, "answered", "answered", "speech #1 in opening"),
    ]


def test_measures_of_a_hand_made_call_to_the_frame():
    records = hand_made_call()
    call = CallTimeline(records)
    assert call.hangup is records[-1] and [p.prompt for p in call.prompts] == [
        "opening", "again", "thanks",
    ]  # fmt: skip
    assert call.prompt_windows == [
        PromptWindow("opening", 0, 150), PromptWindow("again", 300, 400),
        PromptWindow("thanks", 490, 600),
    ]  # fmt: skip
    assert call.listen_windows == [
        ListenWindow(150, 300, 300, fired=True),  # the no-input timer fired at its deadline
        ListenWindow(400, 500, 490, fired=False),  # the answer ended it 10 frames early
    ]
    assert [w.armed_s for w in call.listen_windows] == [3.0, 2.0]
    assert call.pauses == [records[17]]
    assert call.speech_segments == [(8.3, 9.0)] == call.callee_speech
    assert [call.segments_open_at(f) for f in (419, 420, 459, 460, 700)] == [0, 1, 1, 0, 0]
    assert [r.event for r in call.dialog_events] == ["noinput", "speech"]
    assert call.has_event("speech") and not call.has_event("low_volume")
    assert call.timer_prompts == [records[6]]
    assert call.prompts_after_events == [(records[5], records[6]), (records[13], records[15])]
    assert call.answer_delays_ms == [800.0]  # 9.0 s to 9.8 s


def test_measures_of_unfinished_prompts_open_speech_and_a_live_call_latency():
    records = hand_made_call()[:16]  # ends as our thanks start playing
    records.insert(11, VadStart(455, 9.1))  # a second segment that never ends
    records.append(PromptOut(490, "thanks", 1200.0, 3.0))
    call = CallTimeline(records)
    assert call.prompt_windows[-1] == PromptWindow("thanks", 490, None)
    assert call.prompt_windows[-1].end_s is None and call.hangup is None
    assert call.callee_speech == [(8.3, 9.0), (9.1, math.inf)]
    assert call.answer_delays_ms == [2000.0]  # 800 ms to decide, 1200 ms to reach the speaker


def test_only_segments_the_engine_hears_as_the_callee_are_the_callees_speech():
    """A noisy line's babble (`noise`) and a blip (`silence`) are not the callee speaking;
    `speech` and `low_volume` are; a segment open at the hang-up goes by its `vad_open`, and
    one never measured still counts."""
    records = [
        PromptStarted(0, "opening", "opening"),
        VadStart(20, 0.3),
        VadEnd(100, 0.3, 1.9, -20.4, 9.6, -30.0, peak_snr_db=11.0, heard_as="noise"),
        VadStart(120, 2.3),
        VadEnd(140, 2.3, 2.7, -50.0, 5.0, -55.0, peak_snr_db=6.0, heard_as="silence"),
        VadStart(160, 3.1),
        VadEnd(200, 3.1, 3.9, -44.0, 20.0, -64.0, peak_snr_db=22.0, heard_as="low_volume"),
        VadStart(220, 4.3),
        VadEnd(260, 4.3, 5.1, -20.0, 40.0, -60.0, peak_snr_db=42.0, heard_as="speech"),
        VadStart(280, 5.5),
        HungUp(300, "opening", "noisy_line", "noise #2 in opening"),
        VadOpen(300, 5.5, 5.9, -39.7, 7.3, -47.0, "noise", peak_snr_db=7.9),
    ]
    call = CallTimeline(records)
    assert call.hangup is records[-2]
    assert len(call.speech_segments) == 4  # every segment the detectors made
    assert call.heard_as[0.3] == "noise" and call.heard_as[5.5] == "noise"
    assert call.callee_speech == [(3.1, 3.9), (4.3, 5.1)]
    assert [call.segments_open_at(f) for f in (50, 300)] == [1, 1]
    assert [call.segments_open_at(f, callee_only=True) for f in (50, 180, 300)] == [0, 1, 0]
    unmeasured = records[:-1]  # open at the hang-up, never measured: still the callee
    assert CallTimeline(unmeasured).callee_speech[-1] == (5.5, math.inf)
    assert CallTimeline(unmeasured).segments_open_at(300, callee_only=True) == 1

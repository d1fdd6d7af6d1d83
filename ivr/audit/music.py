"""Music on hold on the agent's side: sound that is not the agent's words.

While a customer is on hold, the agent's side often carries music. webrtcvad calls music
voiced from end to end, and the learned stage (ivr.detect.learned), which confirms each onset,
lets a melody through now and then (a synthesizer with a vocal timbre, a swell after a rest):
the front end then opens a segment that lasts as long as the music, often joined to the
agent's 请您稍等 just before it, and a 40 s hold reads as the agent talking for 20 s of it.

So the agent's segments where music could be are read again by Silero, window by window
(`read_music` says which, and how much of each): the long ones, those the customer says
nothing after (the words before a hold, and music joined to them), and the start of those
the customer said nothing before (music, or the words after a hold). An agent's answer, the
customer speaking just before and after it, is not read: a call without holds costs next to
nothing more. Read whole, music reaches the learned stage's threshold in at most 1 % of its
32 ms windows, scattered (the five tracks of Asterisk's music on hold at -30 to -15 dBFS,
through G.711); a talker in 60-80 % of them, in runs as long as syllables. Stretches without
speech (long ones, or shorter ones at a segment's edge) are music and are cut out of the
agent's speech at the pauses that part them from the words; the words before and after stay
the agent's, the music is the customer's wait. With the learned stage off (`--set
learned.enabled=0`) nothing is read and music counts as the agent speaking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, ms_to_frames
from ivr.detect.learned import PREROLL_FRAMES as LEARNED_PREROLL_FRAMES
from ivr.detect.learned import WINDOW_SAMPLES, window_probabilities
from ivr.detect.onset import REJECTED_IDLE_FRAMES
from ivr.detect.voice_activity import runs
from ivr.events import Segment

MUSIC_CHECK_S = 8.0
"""Segments on the agent's side at least this long (s) are read whole by the learned stage,
and a stretch without speech at least this long (s) inside one is music."""

QUIET_FRAMES = 5
"""Frames in a row (100 ms) at the floor that can part the agent's words from music."""

WAITING_FRAMES = 150
"""A segment on the agent's side the customer says nothing in the 150 frames (3 s) before or
after is read (a hold's music, or the words before it; the agent's answer follows the
customer's words within 1-2 s, and the customer answers it as soon)."""

PREROLL_FRAMES = LEARNED_PREROLL_FRAMES
"""Frames (200 ms) read before a segment, as the learned stage does: a new stream settles on
the line's own sound first (without them, its first windows on a talker are lost)."""

SAMPLE_FRAMES = 100
"""Frames (2 s) read at the start of a segment the customer said nothing before: music that
precedes the agent's words in one segment shows there as LEAD_MUSIC_FRAMES and more without
speech."""

MUSIC_SPEECH_SHARE = 0.5
"""A short segment read whole, or the start read of one, with less of it heard as speech
than this share (0-1) is music as a whole, and so is a part of a long one beside music.
Measured on the first 2 s read (`ivr synth --audit`'s 48 calls of seed 5 and 40 holds with
music): the music segments whose onset the learned stage let through 0.00 (9 of them), the
agents' speech segments the customer said nothing in the 3 s before 0.71 and more (84)."""

LEAD_MUSIC_FRAMES = 60
"""A stretch without speech this long (frames, 1.2 s) at a segment's start is music (the
segment began on music before the agent's words): on the agents' 174 speech segments of the
same calls, read whole, speech was heard within 29 frames (0.58 s) of the start."""

TRAIL_MUSIC_FRAMES = 40
"""A stretch without speech this long (frames, 800 ms) at a segment's end is music (the
segment went on over music after the agent's words): on the same segments speech was heard
to within 18 frames (0.36 s) of the end."""

SHORTEST_PIECE_FRAMES = 25
"""A part of a segment left beside a music stretch shorter than this (frames, 500 ms) is the
music's own edge (Silero calls the first windows of loud music speech), not the agent's
words."""

PHRASE_FRAMES = 25
"""A run of speech heard this long (frames, 500 ms) is the agent's words next to music; the
windows of music Silero calls speech come in shorter runs."""

LATE_WORDS_FRAMES = 50
"""How far (frames, 1 s) before a music stretch's end the pause before the agent's words may
be: a new stream hears a talker's first words up to 0.54 s late."""

PHRASE_GAP_FRAMES = 10
"""Runs of speech heard at most this far apart (frames, 200 ms) are one phrase (a word after
a short pause; Silero's windows dip between words)."""

SPEECH_RUN_FRAMES = 5
"""Fewer frames in a row (100 ms, three 32 ms windows) heard as speech are not speech but
music's blips; a syllable holds more."""

RESTART_FRAMES = REJECTED_IDLE_FRAMES
"""A pause this long (frames, 200 ms: the front end's own, after a sound its learned stage
rejected) inside a segment read starts a new stream after it."""


@dataclass(frozen=True)
class AgentMusic:
    """What reading the agent's segments found (`read_music`): `stretches` of music and the
    runs of speech `heard` in the segments read (frames [start, end), in order)."""

    stretches: tuple[tuple[int, int], ...] = ()
    heard: tuple[tuple[int, int], ...] = ()

    def speech(self, segments: list[Segment], clear: list[Segment]) -> list[Segment]:
        """The agent's speech: each of `segments` without music kept when it is in `clear`
        (it stands clear of the line's noise); the parts of one with music cut out kept when
        they are at least SHORTEST_PIECE_FRAMES long and MUSIC_SPEECH_SHARE of them, and a
        phrase's worth (PHRASE_FRAMES), is speech heard (their measures are the whole
        segment's, music and all: no use to judge them by)."""
        out = []
        for segment in segments:
            pieces = _cut(segment, self.stretches)
            if pieces == [segment]:
                if segment in clear:
                    out.append(segment)
                continue
            out += [
                p
                for p in pieces
                if p.end - p.start >= SHORTEST_PIECE_FRAMES
                and self._heard_in(p) >= max(PHRASE_FRAMES, MUSIC_SPEECH_SHARE * (p.end - p.start))
            ]
        return out

    def _heard_in(self, piece: Segment) -> int:
        """Frames of `piece` in runs of speech heard."""
        return sum(max(0, min(b, piece.end) - max(a, piece.start)) for a, b in self.heard)


def read_music(
    segments: list[Segment],
    customer: list[Segment],
    frames_of: Callable[[list[Segment]], list[np.ndarray]],
    threshold: float,
    quiet: np.ndarray,
) -> AgentMusic:
    """The music among the agent's `segments`, the `customer`'s speech segments beside them
    (`frames_of` gives the (n, 320) int16 frames of segments, in order; the learned stage
    reads them at `threshold`, 0-1, each from PREROLL_FRAMES before it).

    Which segments are read, and how much of each: a long one (MUSIC_CHECK_S and more)
    whole, and so one the customer says nothing in the WAITING_FRAMES after (a hold's music
    may follow the agent's words in one segment; not the recording's last words, nobody is
    on hold after them); one the customer said nothing in the WAITING_FRAMES before, its
    first SAMPLE_FRAMES (music may come before the words). When the customer never speaks,
    only long ones: nobody is on hold.

    What is music: a stretch read without speech of MUSIC_CHECK_S and more, or
    LEAD_MUSIC_FRAMES at a segment's start before words heard, or TRAIL_MUSIC_FRAMES at its
    end after them; its edges moved to the pauses that part it from the words beside it
    (`quiet`: per frame of the side, whether it is at the line's floor). A segment read whole
    (long, or the customer silent after it: inside a wait) without such a stretch is music
    as a whole when under MUSIC_SPEECH_SHARE of it is heard as speech. Runs of speech
    shorter than SPEECH_RUN_FRAMES are not counted; the part not read stays the agent's
    words. A segment read to its end whose last phrase is followed by a pause and nothing
    heard as speech ends at the pause (music that began within the segmenter's hangover)."""
    shortest = ms_to_frames(MUSIC_CHECK_S * 1000)
    chosen: list[tuple[Segment, Segment, bool]] = []  # (segment, the part read, a wait)
    for s in segments:
        if s.end - s.start >= shortest:
            chosen.append((s, s, True))
        elif not customer:
            continue
        elif s.end + WAITING_FRAMES <= quiet.size and _waited_after(s, customer):
            chosen.append((s, s, True))
        elif _waiting(s, customer):
            chosen.append((s, replace(s, end=min(s.end, s.start + SAMPLE_FRAMES)), False))
    if not chosen:
        return AgentMusic()
    parts = [replace(r, start=max(0, r.start - PREROLL_FRAMES)) for _, r, _ in chosen]
    found: list[tuple[int, int]] = []
    heard: list[tuple[int, int]] = []
    for (segment, read, wait), part, frames in zip(chosen, parts, frames_of(parts), strict=True):
        speech = _heard_frames(frames, part.start, read, quiet, threshold)
        if not speech.size:
            continue
        edges = (read.start == segment.start, read.end == segment.end)
        stretches, voices = _stretches(speech, read.start, shortest, edges)
        if wait and not stretches and speech.mean() < MUSIC_SPEECH_SHARE:
            stretches = [(segment.start, segment.end)]  # all music, if short
        if read.end < segment.end:  # the rest, not read, stays the agent's words
            voices.append((read.end, segment.end))
        elif not any(last == segment.end for _, last in stretches):
            stretches += _after_the_words(segment, voices, quiet)
        found += [_to_quiet(stretch, sorted(voices), quiet) for stretch in stretches]
        heard += voices
    return AgentMusic(tuple(sorted(found)), tuple(sorted(heard)))


def _heard_frames(
    frames: np.ndarray, origin: int, read: Segment, quiet: np.ndarray, threshold: float
) -> np.ndarray:
    """Whether the learned stage hears speech at each frame of `read`'s [start, end), from
    the (n, 320) int16 `frames` that begin at frame `origin` (PREROLL_FRAMES before it). A
    new stream is started at every pause (RESTART_FRAMES and more `quiet`) and read from
    PREROLL_FRAMES before it, as the front end's stage does after a rejected sound: read on,
    40 s of music leave the network deaf to the agent back after it. A frame takes the
    decision of the window its first sample is in; runs of speech shorter than
    SPEECH_RUN_FRAMES are music's blips and are taken out."""
    starts = [read.start]
    starts += [a for a, _ in _quiet_runs(quiet, read.start + 1, read.end, RESTART_FRAMES)]
    speech = np.zeros(read.end - read.start, dtype=bool)
    for a, b in zip(starts, [*starts[1:], read.end], strict=True):
        low = max(origin, a - PREROLL_FRAMES)
        probabilities = window_probabilities(frames[low - origin : b - origin])
        if not probabilities.size:
            continue
        windows = np.arange(a - low, b - low) * FRAME_SAMPLES // WINDOW_SAMPLES
        windows = np.minimum(windows, probabilities.size - 1)
        speech[a - read.start : b - read.start] = probabilities[windows] >= threshold
    for start, end, voice in zip(*runs(speech), strict=True):
        if voice and end - start < SPEECH_RUN_FRAMES:
            speech[start:end] = False
    return speech


def _waited_after(segment: Segment, customer: list[Segment]) -> bool:
    """Whether the customer says nothing in the WAITING_FRAMES after `segment` ends."""
    return not any(c.end > segment.end and c.start < segment.end + WAITING_FRAMES for c in customer)


def _waiting(segment: Segment, customer: list[Segment]) -> bool:
    """Whether the customer said nothing in the WAITING_FRAMES before `segment` starts."""
    return not any(
        c.start < segment.start and c.end > segment.start - WAITING_FRAMES for c in customer
    )


def _stretches(
    speech: np.ndarray, start_frame: int, shortest: int, edges: tuple[bool, bool]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The stretches (frames) without speech at least `shortest` long, or at the segment's
    start before words heard (LEAD_MUSIC_FRAMES) or at its end after them
    (TRAIL_MUSIC_FRAMES) when the frames read reach it (`edges`: whether they begin at its
    start and end at its end), and the runs of speech, from `speech`, per frame read from
    `start_frame`. Where nothing is heard at all, nothing is known from an edge: a voice the
    network is unsure of is not music."""
    music, heard = [], []
    for start, end, voice in zip(*runs(speech), strict=True):
        first, last = start_frame + start, start_frame + end
        if voice:
            heard.append((first, last))
            continue
        edge = shortest
        if start == 0 and edges[0] and end < speech.size:  # music, then words heard
            edge = LEAD_MUSIC_FRAMES
        if end == speech.size and edges[1] and start > 0:  # words heard, then music
            edge = TRAIL_MUSIC_FRAMES
        if last - first >= edge:
            music.append((first, last))
    return music, heard


def _after_the_words(
    segment: Segment, heard: list[tuple[int, int]], quiet: np.ndarray
) -> list[tuple[int, int]]:
    """The end of `segment` after a pause that follows its last phrase heard, when nothing
    in it was heard as speech (music that began within the segmenter's hangover after the
    agent's last words): [the pause's start, the segment's end), or nothing."""
    phrases = _phrases(heard)
    if not phrases:
        return []
    pauses = _quiet_runs(quiet, phrases[-1][1], segment.end)
    if not pauses or any(b > pauses[0][0] for _, b in heard):
        return []
    return [(pauses[0][0], segment.end)]


def _phrases(heard: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The phrases of the runs of speech `heard`: runs less than PHRASE_GAP_FRAMES apart
    joined, those of PHRASE_FRAMES and more kept, in order."""
    joined: list[tuple[int, int]] = []
    for run in sorted(heard):
        if joined and run[0] - joined[-1][1] <= PHRASE_GAP_FRAMES:
            joined[-1] = (joined[-1][0], max(joined[-1][1], run[1]))
        else:
            joined.append(run)
    return [h for h in joined if h[1] - h[0] >= PHRASE_FRAMES]


def _to_quiet(
    stretch: tuple[int, int], heard: list[tuple[int, int]], quiet: np.ndarray
) -> tuple[int, int]:
    """The music `stretch` (frames) with its edges moved to the pauses that part it from the
    agent's words beside it: its start to that of the first quiet run (QUIET_FRAMES and more
    at the floor) after the last phrase heard before it, its end to the end of the last
    quiet run before the first phrase heard after it, up to LATE_WORDS_FRAMES before the
    stretch's end (a phrase: runs of speech `heard` less than PHRASE_GAP_FRAMES apart,
    PHRASE_FRAMES and more in all). Silero goes on calling windows of loud music speech after
    the words stop, a few at a time, for up to a second or more."""
    first, last = stretch
    phrases = _phrases(heard)
    before = [h for h in phrases if h[0] < first]
    if before:
        pauses = _quiet_runs(quiet, before[-1][1], first + 1)
        if pauses:
            first = pauses[0][0]
    after = [h for h in phrases if h[1] > last]
    if after:
        pauses = _quiet_runs(quiet, max(first + 1, last - LATE_WORDS_FRAMES), after[0][0])
        if pauses:
            last = pauses[-1][1]
    return first, max(first + 1, last)


def _quiet_runs(
    quiet: np.ndarray, start: int, end: int, shortest: int = QUIET_FRAMES
) -> list[tuple[int, int]]:
    """Runs of at least `shortest` quiet frames inside [start, end) (absolute frames)."""
    part = quiet[max(start, 0) : end]
    start = max(start, 0)
    if not part.size:
        return []
    return [
        (start + a, start + b)
        for a, b, q in zip(*runs(part), strict=True)
        if q and b - a >= shortest
    ]


def _cut(segment: Segment, stretches: tuple[tuple[int, int], ...]) -> list[Segment]:
    """`segment` with the `stretches` (frames) cut out: the parts before and after each, with
    the segment's measures."""
    pieces = [segment]
    for first, last in stretches:
        cut = []
        for piece in pieces:
            if last <= piece.start or first >= piece.end:
                cut.append(piece)
                continue
            if piece.start < first:
                cut.append(replace(piece, end=first))
            if last < piece.end:
                cut.append(replace(piece, start=last))
        pieces = cut
    return pieces

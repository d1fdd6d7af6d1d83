"""The small typed events that flow to the dialog engine: the detectors' and the line's.

Times are frame indices (20 ms each, counted from the start of the call's audio) so that timing
holds to the frame; `.start_s`-style properties give seconds for display.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.audio.format import frames_to_seconds


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech began at `frame`; the detector knew it once `decided_frame` frames were heard."""

    frame: int
    decided_frame: int

    @property
    def start_s(self) -> float:
        """Start of the speech (s)."""
        return frames_to_seconds(self.frame)


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """A speech segment ended; `decided_frame` counts the frames heard when it was known."""

    segment: Segment
    decided_frame: int

    @property
    def end_s(self) -> float:
        """End of the speech (s)."""
        return self.segment.end_s


@dataclass(frozen=True, slots=True)
class SpeechProgress:
    """The speech segment still open, measured so far: `segment` ends at `decided_frame`, the
    frame it was measured at. Sent every PROGRESS_MS (ivr.detect.vad) of open speech and when
    its loudest part rises by PEAK_RISE_DB, so that sound going on at the no-input deadline,
    or cut off at max_speech, is judged by its own level and signal-to-noise ratio."""

    segment: Segment
    decided_frame: int


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of speech: frames [start, end), its active level and signal-to-noise ratio.

    `level_dbfs` is the speech's own active level (dBFS, noise power subtracted), `snr_db` its
    ratio to the noise floor (dB), `floor_dbfs` the floor it was measured against (dBFS).
    """

    start: int
    end: int
    level_dbfs: float
    snr_db: float
    floor_dbfs: float
    voiced_frames: int
    gaps: int = 0
    """Dropouts inside the segment: abrupt losses of the line of choppy_gap_ms to 280 ms
    (ivr.detect.dropouts)."""
    peak_snr_db: float | None = None
    """Signal-to-noise ratio of the segment's loudest 500 ms (dB): a talker over office babble
    stands far above it there, the babble itself does not. None: not measured (snr_db
    stands for it)."""

    @property
    def start_s(self) -> float:
        """Start (s)."""
        return frames_to_seconds(self.start)

    @property
    def end_s(self) -> float:
        """End (s)."""
        return frames_to_seconds(self.end)

    @property
    def duration_s(self) -> float:
        """Length (s)."""
        return frames_to_seconds(self.end - self.start)


@dataclass(frozen=True, slots=True)
class KeyPressed:
    """The callee pressed telephone key `key` (one of 0-9, *, #, A-D) at `frame`; it was
    reported once `decided_frame` frames were heard. Not tied to the VAD: it comes from a tone
    detector or out of band from the line (RFC 4733 events)."""

    key: str
    frame: int
    decided_frame: int


@dataclass(frozen=True, slots=True)
class ToneHeard:
    """A telephone-line tone was recognized: `kind` is one of TONE_KINDS. It began at `frame`
    and was recognized once `decided_frame` frames were heard (for a cadenced tone, after
    enough of its on/off pattern; for a beep, when it ended)."""

    kind: str
    frame: int
    decided_frame: int
    frequency_hz: float = 0.0
    """The tone's measured frequency (Hz; for SIT the first of its three)."""


TONE_KINDS = ("ringback", "busy", "congestion", "sit", "beep")
"""ringback (回铃音), busy (忙音) and congestion (拥塞音) are the network's 450 Hz
call-progress tones; sit is the ITU-T special information tone before a carrier announcement;
beep is the single tone an answering machine plays before it records."""


@dataclass(frozen=True, slots=True)
class MachineVerdict:
    """Answering-machine detection's verdict on who answered: `verdict` is `human`, `machine`
    or `notsure`, `cause` Asterisk AMD's cause word (INITIALSILENCE, LONGGREETING, MAXWORDS,
    MAXWORDLENGTH, HUMAN, TOOLONG), decided once `decided_frame` frames were heard."""

    verdict: str
    cause: str
    decided_frame: int


DetectorEvent = SpeechStarted | SpeechEnded | SpeechProgress
"""What the speech detectors emit."""

LineEvent = KeyPressed | ToneHeard | MachineVerdict
"""What the line's other detectors emit: keys, tones, the answering-machine verdict."""

InputEvent = SpeechStarted | SpeechEnded | SpeechProgress | KeyPressed | ToneHeard | MachineVerdict
"""Every input the engine takes from the callee's side, each with the frame it was decided at
(`decided_frame`): the call runner hands them over in that order."""

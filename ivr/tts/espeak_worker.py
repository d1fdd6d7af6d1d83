"""Render one utterance with espeak-ng in a fresh process, for bit-exact results.

espeak-ng keeps state from one utterance to the next inside a process (the same text comes
out a few samples longer or shorter, with different samples), so each utterance is rendered
by this script in a process of its own. It is run by path, not imported, and imports nothing
of ivr: only pyttsx3's ctypes binding of libespeak-ng, in synchronous mode.

    python espeak_worker.py VOICE RATE VOLUME < text
    python espeak_worker.py --list-voices

Writes the sample rate (4 bytes, little-endian) then the int16 samples to stdout, or the voice
names one per line; on failure a one-line reason on stderr and exit status 1.
"""

import ctypes
import struct
import sys


def main() -> int:
    try:
        from pyttsx3.drivers import _espeak as espeak
    except (ImportError, OSError) as exc:
        sys.stderr.write(f"espeak-ng unavailable: {exc}\n")
        return 1
    sample_rate = espeak.Initialize(espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0)
    if sample_rate <= 0:
        sys.stderr.write("espeak-ng could not be initialised\n")
        return 1
    if sys.argv[1:] == ["--list-voices"]:
        for v in espeak.ListVoices(None):
            if v.identifier:
                print(v.identifier.decode("utf-8").lower().rsplit("/", 1)[-1])
        return 0
    voice, rate, volume = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    text = sys.stdin.buffer.read().decode("utf-8")
    chunks = []

    def collect(wav, count, events):
        if count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    espeak.SetSynthCallback(collect)
    if espeak.SetVoiceByName(voice.encode("utf-8")) != espeak.EE_OK:
        sys.stderr.write(f"espeak-ng has no voice {voice!r}\n")
        return 1
    espeak.SetParameter(espeak.RATE, rate, 0)
    espeak.SetParameter(espeak.VOLUME, volume, 0)
    status = espeak.Synth(text, flags=espeak.CHARS_UTF8 | espeak.ENDPAUSE)
    if status != espeak.EE_OK or not chunks:
        sys.stderr.write(f"espeak-ng produced no audio (status {status})\n")
        return 1
    out = sys.stdout.buffer
    out.write(struct.pack("<I", sample_rate))
    out.write(b"".join(chunks))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

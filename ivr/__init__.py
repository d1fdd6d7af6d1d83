"""ivr: an offline voice IVR and outbound-calling prototype.

Audio frames (16 kHz mono int16, 20 ms) flow from a source through detectors (voice activity,
level, noise floor) into a dialog engine that performs call-center service scripts.
"""

__version__ = "0.1.0"

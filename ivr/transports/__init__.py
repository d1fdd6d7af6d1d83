"""Transports: where a call's audio comes from and goes to, one module each (`replay`, a
recording on a virtual clock; `sounddevice`, a duplex sound-card stream; `sip`, a SIP call),
all behind the two ports of `base`."""

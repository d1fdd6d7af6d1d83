"""Sessions: one call's frames through the detectors, the engine and a transport, on the
audio clock (replay, live, SIP), and what a call leaves behind (its result, its recording)."""

"""`ivr tune`: choosing timeouts and detector thresholds from labelled recorded calls."""

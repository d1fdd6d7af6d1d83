"""SIP telephone calls: our user agent (pjsua2), and a call as the ports of a call session."""

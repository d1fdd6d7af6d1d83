"""What the call commands share beneath the CLI: their options, setting up a call (script,
prompts, settings, recognition), running a replay batch, and keeping every call one way (call
log, QA score, report page: ivr.app.keeping).

`ivr replay`, `ivr call`, `ivr dial`, `ivr serve`, `ivr campaign`, `ivr tune` and `ivr detect`
are typer commands over these.
"""

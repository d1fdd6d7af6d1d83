"""What the call commands share beneath the CLI: their options, setting up a call (script,
prompts, settings, recognition) and keeping it (call log, QA score, report page).

`ivr replay`, `ivr call`, `ivr tune` and `ivr detect` are thin typer commands over these.
"""

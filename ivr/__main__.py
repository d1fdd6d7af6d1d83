"""`python -m ivr` runs the command line."""

from ivr.cli import main

main()

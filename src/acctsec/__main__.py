"""Allows `python -m acctsec`."""

from acctsec.cli import main

main()

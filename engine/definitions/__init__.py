"""Definitions as data: the pack format's checks (checks*, schemas/), published versions
and their compiled runtimes, and the facts a compound-file definition declares."""

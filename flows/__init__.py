"""The pure core of Aftercare: protocols as data, the check-in engine, triage and answer parsing.

Nothing in this package performs I/O beyond reading its own bundled data files, reads the clock or knows
about Telegram, SQL or the web. Time comes in as the keyword argument ``now`` (aware, UTC). The import
contract in pyproject.toml enforces this.
"""

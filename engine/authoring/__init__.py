"""Changing definitions: publishing versions, the designer's edits, evolving open items to a
new version, and loading packs."""

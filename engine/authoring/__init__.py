"""Changing definitions: publishing versions, the designer's edits, evolving open items to a
new version, and loading packs. Beside the designer: keys derived from Chinese names (keys),
what a condition may read besides the answers (design_context), a definition's changes and
decisions in words (changes, words), deadline examples and the calendar form."""

"""How owners decide together: polls (表决) under Civil Code art. 278, and (beside them)
meetings, opinion collection and the party organisation's first say."""

# Ballots register their record kind (a paper ballot's photo) when imported.
from engine.decisions import ballots  # noqa: F401

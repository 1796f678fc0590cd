"""How owners decide together: deliberation meetings (议事会), opinion collections (征求意见),
the party organisation's first say (先议先审) and polls (表决) under Civil Code art. 278."""

# Modules with attachments register their record kinds (a paper ballot's photo, minutes
# photos, opinion files) when imported.
from engine.decisions import ballots, meetings, opinions  # noqa: F401

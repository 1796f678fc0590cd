"""How owners decide together: polls (表决) under Civil Code art. 278, and (beside them)
meetings, opinion collection and the party organisation's first say."""

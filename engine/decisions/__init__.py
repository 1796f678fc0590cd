"""How owners decide together: deliberation meetings (议事会), opinion collections (征求意见),
the party organisation's first say (先议先审) and polls (表决)."""

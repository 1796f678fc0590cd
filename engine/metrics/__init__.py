"""Numbers about nodes: cached facts, the index (indices) and what dashboards show."""

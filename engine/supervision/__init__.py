"""Watching over the work: supervisors' actions on items (actions: urge, reroute, reassign),
the overdue board, per-node overview counts and departments' evaluation and scoring."""

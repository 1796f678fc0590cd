"""Items and their workflow: the kernel that plans every state change, the one-row writers
(items, dispatch), deadlines, escalation (interactive and batch) and work queues."""

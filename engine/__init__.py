"""The engine: models and services of Sanfang (no HTML, no request state)."""

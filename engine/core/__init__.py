"""Building blocks every package uses: errors, translation, the clock, the working-day calendar,
per-request memo, input limits and the names of webhook events. Imports nothing of the engine."""

"""The engine: models and services of Sanfang (no HTML, no request state).

Packages by capability, each importing only those in lower layers (the list is
tests/engine/test_engine_layers.py's; lowest first):

core → store → org → definitions → trail → accounts, delivery → records → workflow
→ decisions, residents → supervision, metrics, authoring → demo
"""

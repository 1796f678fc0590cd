"""Fixtures for the rules tests."""

from __future__ import annotations

import pytest
from rules_support import RuleGen


@pytest.fixture
def gen() -> RuleGen:
    """A seeded generator (seed 20261127)."""
    return RuleGen(20261127)

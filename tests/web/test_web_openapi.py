"""The JSON API answers as /api/v1/openapi.json says, whatever schemathesis sends it.

Every operation of the document, with valid and with invalid input, in process
(schemathesis' WSGI transport) and authenticated with a bearer token. Bounded and
deterministic: a fixed number of examples per operation, derandomized.

(``schemathesis.pytest.from_fixture`` would build the schema from the ``app`` fixture
itself, but schemathesis 4.32 reads a node attribute pytest 9.2 no longer has; the
operations' Hypothesis strategies do the same.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

DOCUMENT = json.loads(
    (Path(__file__).resolve().parents[2] / "pages" / "openapi.json").read_text("utf-8")
)
OPERATIONS = [
    pytest.param(path, method.upper(), mode, id=f"{method.upper()} {path} {mode.value}")
    for path, item in DOCUMENT["paths"].items()
    for method, op in item.items()
    if method in ("get", "post", "put", "patch", "delete")
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    # only an operation with parameters or a body can be sent something invalid
    if mode == GenerationMode.POSITIVE or op.get("parameters") or op.get("requestBody")
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 30  # per operation and mode: the whole file takes ~15 s, well under a minute


@pytest.mark.parametrize(("path", "method", "mode"), OPERATIONS)
def test_the_api_keeps_its_schema(
    app: Any, token_for: Any, path: str, method: str, mode: GenerationMode
) -> None:
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    headers = token_for("xifang")
    for summary in ("夜间巡逻不到位", "楼道堆物"):  # lists with items in them, not only empty ones
        raised = app.test_client().post(
            "/api/v1/items",
            headers=headers,
            json={
                "type": "bell",
                "node": "lvzhouhuayuan",
                "data": {"category": "治安", "summary": summary},
            },
        )
        assert raised.status_code == 201, raised.get_data(as_text=True)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_documented(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()

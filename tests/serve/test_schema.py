"""Schema-driven fuzzing: schemathesis generates valid and invalid requests for every operation of
/api/openapi.json; none may get a 5xx, and every response (status, headers, body) must match the document.

(schemathesis' own pytest plugin does not run under pytest 9, so each operation's Hypothesis strategy
is driven here directly. A 413 — body over the byte limit, which JSON Schema cannot express — is
checked for its JSON error instead of against the schema; so is a date_from after date_to, which JSON
Schema cannot forbid either.)
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

EXAMPLES = 250
OPERATIONS = ["POST /api/ask", "GET /api/search", "GET /api/articles", "POST /api/articles",
              "GET /api/articles/{article_id}", "DELETE /api/articles/{article_id}", "GET /api/examples",
              "GET /api/health", "GET /api/sources", "POST /api/sources", "DELETE /api/sources/{source_id}"]
CONSTRAINED = ["POST /api/ask", "GET /api/search", "POST /api/articles", "POST /api/sources"]
"""Operations with a body or constrained parameters, so invalid requests can be generated."""


@pytest.fixture(scope="module")
def operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return {op.ok().label: op.ok() for op in schema.get_all_operations()}


def test_the_document_covers_every_operation(operations):
    """schemathesis leaves out the document's own address, which test_api checks."""
    assert set(operations) == set(OPERATIONS)


@pytest.mark.parametrize("label, mode", [(op, GenerationMode.POSITIVE) for op in OPERATIONS] +
                         [(op, GenerationMode.NEGATIVE) for op in CONSTRAINED],
                         ids=lambda v: getattr(v, "value", v))
def test_generated_requests_match_the_document(operations, label, mode):
    operation = operations[label]
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        response = case.call()
        calls.append(response.status_code)
        assert response.status_code < 500, (case.method, case.path, str(case.body)[:300], response.text[:300])
        if response.status_code == 413:
            assert response.json()["error"]["code"] == "payload_too_large"
        elif _dates_reversed(case) and response.status_code != 429:
            assert response.status_code == 400, response.text[:300]
            if mode == GenerationMode.POSITIVE:
                assert response.json()["error"]["code"] == "invalid_filters"
        else:
            case.validate_response(response)

    run()
    assert calls


def _dates_reversed(case) -> bool:
    """A generated date range whose start is after its end (valid per field, refused as a whole)."""
    body = case.body if isinstance(case.body, dict) else {}
    found = body.get("filters") if isinstance(body.get("filters"), dict) else (case.query or {})
    start, end = found.get("date_from"), found.get("date_to")
    return isinstance(start, str) and isinstance(end, str) and start > end

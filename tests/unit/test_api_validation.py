"""Bad input to the Python API is an InvalidRequest with readable messages, as over HTTP and in the CLI."""

from __future__ import annotations

import pytest

from graph import agenerate_blueprint, generate_blueprint
from tools.errors import BlueprintError, InvalidRequest, validation_problems


def test_sync_api_reports_bad_input_as_invalid_request_without_pydantic_prefix() -> None:
    with pytest.raises(InvalidRequest) as caught:
        generate_blueprint("ftp://acme.com")
    assert caught.value.code == "validation_error"
    assert caught.value.message == "Invalid request — website: website must use http or https"
    assert caught.value.details == {"errors": [{"field": "website", "message": "website must use http or https"}]}
    assert "Value error" not in str(caught.value)


async def test_async_api_reports_a_bad_icp_field_by_its_path() -> None:
    icp = {"company_size": {"min_employees": 500, "max_employees": 10}}
    with pytest.raises(BlueprintError) as caught:
        await agenerate_blueprint("acme.com", icp)
    assert isinstance(caught.value, InvalidRequest)
    assert "icp.company_size: min_employees must not exceed max_employees" in caught.value.message
    assert "Value error" not in caught.value.message


def test_validation_problems_strip_only_the_prefix() -> None:
    problems = validation_problems([
        {"loc": ("icp", "industries", 0), "msg": "Value error, industry must not be blank"},
        {"loc": (), "msg": "Field required"},
    ])
    assert problems == [{"field": "icp.industries.0", "message": "industry must not be blank"},
                        {"field": "request", "message": "Field required"}]

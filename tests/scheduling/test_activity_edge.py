"""Accord's coded errors at the activity edge: the code as the failure's type, retried only if retryable."""

from __future__ import annotations

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from accord.activities.edge import application_error, coded_errors
from accord.errors import (
    AccordError,
    ConnectionFailure,
    FederatedError,
    NotAPartyOfJob,
    PartyImpersonation,
    PermissionDenied,
    RecordNotFound,
    error_from_code,
)


@pytest.mark.parametrize(
    ("error", "code", "retried"),
    [
        (ConnectionFailure("cannot reach host 10000"), 105, True),
        (FederatedError("host 10000 answered garbage"), 104, True),
        (PermissionDenied("party 10000 is not hosted by this site"), 108, False),
        (PartyImpersonation("only the job's initiator may send it"), 10802, False),
        (NotAPartyOfJob("host 10001 is not a party of the job"), 10805, False),
        (RecordNotFound("job j1 is not known on this site"), RecordNotFound.code, False),
    ],
)
def test_the_failure_carries_the_code_and_is_retried_only_if_the_error_is(
    error: AccordError, code: int, retried: bool
) -> None:
    failure = application_error(error)
    assert failure.type == str(code)
    assert failure.non_retryable is not retried
    assert failure.message == error.retmsg


def test_a_peer_s_refusal_rebuilt_from_its_code_is_permanent_and_named() -> None:
    # What the federation client raises for a PERMISSION_DENIED status with code 10805.
    refusal = error_from_code(10805, "CreateJob for job j1 from guest 9999 refused")
    failure = application_error(refusal, context="CreateJob to host 10000")
    assert (failure.type, failure.non_retryable) == ("10805", True)
    assert failure.message == "CreateJob to host 10000: CreateJob for job j1 from guest 9999 refused"


class _Refusing:
    def __init__(self, error: AccordError) -> None:
        self.error = error

    @activity.defn(name="refusing")
    @coded_errors
    async def refusing(self, job_id: str) -> str:
        raise self.error


async def test_an_activity_under_coded_errors_fails_with_the_mapped_error() -> None:
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as raised:
        await env.run(
            _Refusing(PartyImpersonation("not the initiator", hint="ask the initiator")).refusing, "j1"
        )
    assert raised.value.type == "10802"
    assert raised.value.non_retryable
    assert raised.value.message == "not the initiator. ask the initiator"
    with pytest.raises(ApplicationError) as transient:
        await env.run(_Refusing(ConnectionFailure("cannot reach host 10000")).refusing, "j1")
    assert (transient.value.type, transient.value.non_retryable) == ("105", False)


def test_the_wrapped_activity_keeps_its_name_and_signature() -> None:
    definition = activity._Definition.must_from_callable(_Refusing.refusing)
    assert definition.name == "refusing"
    assert definition.arg_types == [str]
    assert definition.ret_type is str

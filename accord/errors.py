"""The one exception hierarchy of Accord.

Every error carries a stable numbered code. The families are FATE-Flow's retcodes (100 exception,
101 argument, 102 data, 103 operating, 104 federated, 105 connection, 108 permission, 109
authentication); finer codes are five digits whose first three are the family, so a FATE client that
only knows the family can still read ``code // 100``.

The edges (CLI, HTTP, gRPC, Temporal activities) translate an error with the mapping helpers at the
bottom of this module instead of inventing their own.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar


class RetCode(IntEnum):
    """FATE-Flow's retcode families."""

    SUCCESS = 0
    EXCEPTION = 100
    ARGUMENT = 101
    DATA = 102
    OPERATING = 103
    FEDERATED = 104
    CONNECTION = 105
    RUNNING = 106
    PERMISSION = 108
    AUTHENTICATION = 109
    NOT_FOUND = 404


class AccordError(Exception):
    """Base of every error Accord raises on purpose.

    ``message`` says what is wrong and names the component, field or party; ``hint`` says how to fix
    it. Subclasses set ``code`` (stable, never reused) and ``family``.
    """

    code: ClassVar[int] = int(RetCode.EXCEPTION)
    family: ClassVar[RetCode] = RetCode.EXCEPTION
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, hint: str | None = None, **details: Any) -> None:
        self.message = message
        self.hint = hint
        self.details: dict[str, Any] = details
        super().__init__(self.retmsg)

    @property
    def retmsg(self) -> str:
        return f"{self.message}. {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"retcode": self.code, "retmsg": self.retmsg}
        if self.details:
            body["data"] = self.details
        return body


# ---- families -------------------------------------------------------------------------------


class ArgumentError(AccordError):
    code = int(RetCode.ARGUMENT)
    family = RetCode.ARGUMENT


class DataError(AccordError):
    code = int(RetCode.DATA)
    family = RetCode.DATA


class OperatingError(AccordError):
    code = int(RetCode.OPERATING)
    family = RetCode.OPERATING


class FederatedError(AccordError):
    code = int(RetCode.FEDERATED)
    family = RetCode.FEDERATED
    retryable = True


class ConnectionFailure(AccordError):
    code = int(RetCode.CONNECTION)
    family = RetCode.CONNECTION
    retryable = True


class PermissionDenied(AccordError):
    code = int(RetCode.PERMISSION)
    family = RetCode.PERMISSION


class AuthenticationFailed(AccordError):
    code = int(RetCode.AUTHENTICATION)
    family = RetCode.AUTHENTICATION


class NotFound(AccordError):
    code = int(RetCode.NOT_FOUND)
    family = RetCode.NOT_FOUND


# ---- DSL and runtime conf (101xx) -----------------------------------------------------------


class JsonSyntaxError(ArgumentError):
    code = 10101


class DslStructureError(ArgumentError):
    """The DSL is not shaped like a DSL v2 document (no ``components``, wrong types, unknown keys)."""

    code = 10102


class MissingModuleError(ArgumentError):
    code = 10103


class UnknownModuleError(ArgumentError):
    code = 10104


class UnknownReferenceError(ArgumentError):
    """An input names a component or an output that the DSL does not declare."""

    code = 10105


class UnknownInputKindError(ArgumentError):
    code = 10106


class DuplicateOutputError(ArgumentError):
    code = 10107


class DependencyCycleError(ArgumentError):
    code = 10108


class ModelInputError(ArgumentError):
    """A model or isometric_model input that does not point at a model output."""

    code = 10109


class UnknownRoleError(ArgumentError):
    code = 10110


class EmptyRoleError(ArgumentError):
    code = 10111


class PartyIdError(ArgumentError):
    code = 10112


class InitiatorError(ArgumentError):
    code = 10113


class RoleIndexError(ArgumentError):
    code = 10114


class UnknownComponentParametersError(ArgumentError):
    code = 10115


class ReaderTableError(ArgumentError):
    code = 10116


class JobParameterError(ArgumentError):
    code = 10117


class PredictModelError(ArgumentError):
    """A predict job without the model it predicts with."""

    code = 10118


class DslVersionError(ArgumentError):
    code = 10119


class ConfStructureError(ArgumentError):
    """The runtime conf is not shaped like a runtime conf v2 document."""

    code = 10120


class DeployComponentError(ArgumentError):
    """A ``--cpn-list`` for predict-DSL generation that cannot make a runnable predict DSL."""

    code = 10121


class InputFileError(ArgumentError):
    """A DSL, conf or other input file that cannot be read."""

    code = 10122


class ComponentNotImplemented(ArgumentError):
    """A job uses a module that no installed component implements."""

    code = 10123


class EngineUnavailable(ArgumentError):
    """A job asks for a computing, storage or federation engine the site does not run."""

    code = 10124


class PartyNotHosted(ArgumentError):
    """A job submitted to a site that does not host its initiator."""

    code = 10125


class ComponentParameterError(ArgumentError):
    """A component parameter with a value its module cannot use."""

    code = 10126


class ComponentFeatureUnsupported(ComponentParameterError):
    """A valid FATE parameter asking for what Accord's implementation of the module does not do yet."""

    code = 10127


class RequestTooLarge(ArgumentError):
    """A request body, upload or value over a size limit of the site (the message names the limit)."""

    code = 10128


class JobTooLarge(ArgumentError):
    """A job with more components than the site's ``max_job_components``."""

    code = 10129


class NameInvalid(ArgumentError):
    """A name (table, namespace, tag, key) that is too long or not text the site can store."""

    code = 10130


class ComponentRolesMismatch(ArgumentError):
    """A component class whose ``roles`` disagree with its module's spec (the catalog's or its own)."""

    code = 10131


# ---- data (102xx) ---------------------------------------------------------------------------


class UploadFileError(DataError):
    """An upload file that cannot become a table (ragged row, duplicate id, empty, not text)."""

    code = 10201


class DataFormatError(DataError):
    """Table content a component cannot read (a non-numeric feature, a missing label)."""

    code = 10202


class DataMismatchError(DataError):
    """Data that does not fit with other data (no common ids, a model's features differ)."""

    code = 10203


# ---- federation data plane (104xx) ----------------------------------------------------------


class TransferTimeout(FederatedError):
    """A value a component waits for did not arrive from its peer in time."""

    code = 10401


class TransferError(FederatedError):
    """A value that arrived broken or cannot be decoded."""

    code = 10402


# ---- persistence and resources (103xx) ------------------------------------------------------


class ResourceInsufficient(OperatingError):
    """A resource application that would oversubscribe an engine; retry later."""

    code = 10301
    retryable = True


class ConflictError(OperatingError):
    """A write that conflicts with the stored state (duplicate key, illegal status transition)."""

    code = 10302


class StatusTransitionError(OperatingError):
    code = 10303


class JobStateError(OperatingError):
    """An operation the job's current state does not allow (stop an ended job, rerun a running one)."""

    code = 10304


class TransferQuotaExceeded(OperatingError):
    """A job's peers pushed more bytes to this site than ``transfer_quota_bytes`` allows."""

    code = 10305


class JobNotSuccessful(OperatingError):
    """A job the CLI waited for ended failed, canceled or timed out (``--wait``, ``job wait``)."""

    code = 10306


class ReuseUnavailable(OperatingError):
    """A task was to take an earlier run's outputs, and they are gone or no longer what was recorded.

    The task fails with it; the job runs the task again without reuse.
    """

    code = 10307


# ---- permission (108xx) ---------------------------------------------------------------------


class PathNotAllowed(PermissionDenied):
    """A server-side path outside the site's ``upload_roots``, or any path the server must not write."""

    code = 10801


class PartyImpersonation(PermissionDenied):
    """A party that speaks for another: reports another party's task, or sets a job it did not start."""

    code = 10802


class TableNotGranted(PermissionDenied):
    """A job initiated by another party reads a table that does not grant that party."""

    code = 10803


class UntrustedArchive(PermissionDenied):
    """A model archive whose signature is missing, broken or from a signer the site does not trust."""

    code = 10804


class NotAPartyOfJob(PermissionDenied):
    """A federation call or push for a job this site is not a party of, or from a party not in it."""

    code = 10805


class HostNotAllowed(PermissionDenied):
    """A request whose Host header is not one of the site's ``allowed_hosts`` (DNS rebinding)."""

    code = 10806


class RecordNotFound(NotFound):
    code = 40401


# ---- mapping at the edges -------------------------------------------------------------------

_HTTP_STATUS: dict[RetCode, int] = {
    RetCode.EXCEPTION: 500,
    RetCode.ARGUMENT: 400,
    RetCode.DATA: 400,
    RetCode.OPERATING: 409,
    RetCode.FEDERATED: 502,
    RetCode.CONNECTION: 503,
    RetCode.PERMISSION: 403,
    RetCode.AUTHENTICATION: 401,
    RetCode.NOT_FOUND: 404,
}

# Exit 2 is what click uses for usage errors, so every "your input is wrong" error shares it.
_EXIT_CODE: dict[RetCode, int] = {
    RetCode.ARGUMENT: 2,
    RetCode.DATA: 2,
    RetCode.NOT_FOUND: 3,
    RetCode.PERMISSION: 4,
    RetCode.AUTHENTICATION: 4,
    RetCode.CONNECTION: 5,
    RetCode.FEDERATED: 5,
}

# Names of grpc.StatusCode members; kept as strings so this module does not import grpc.
_GRPC_STATUS: dict[RetCode, str] = {
    RetCode.EXCEPTION: "INTERNAL",
    RetCode.ARGUMENT: "INVALID_ARGUMENT",
    RetCode.DATA: "INVALID_ARGUMENT",
    RetCode.OPERATING: "FAILED_PRECONDITION",
    RetCode.FEDERATED: "UNAVAILABLE",
    RetCode.CONNECTION: "UNAVAILABLE",
    RetCode.PERMISSION: "PERMISSION_DENIED",
    RetCode.AUTHENTICATION: "UNAUTHENTICATED",
    RetCode.NOT_FOUND: "NOT_FOUND",
}


# Codes whose HTTP status is more precise than their family's.
_HTTP_STATUS_OF_CODE: dict[int, int] = {RequestTooLarge.code: 413}


def http_status(error: AccordError) -> int:
    return _HTTP_STATUS_OF_CODE.get(error.code) or _HTTP_STATUS.get(error.family, 500)


def exit_code(error: AccordError) -> int:
    return _EXIT_CODE.get(error.family, 1)


def grpc_status_name(error: AccordError) -> str:
    return _GRPC_STATUS.get(error.family, "INTERNAL")


def error_from_code(code: int, retmsg: str) -> AccordError:
    """The error a peer reported as ``code``, rebuilt as this process's class for that code.

    An unknown five-digit code falls back to its family (``code // 100``) so callers still branch on
    the family and ``retryable`` right; anything else unknown becomes a plain AccordError.
    """
    wanted = [code, code // 100] if 10000 <= code <= 99999 else [code]
    found: dict[int, type[AccordError]] = {}
    # Breadth first, so a family wins over a subclass that merely inherits the family's code.
    level: list[type[AccordError]] = [AccordError]
    while level:
        for cls in level:
            found.setdefault(cls.code, cls)
        level = [sub for cls in level for sub in cls.__subclasses__()]
    cls = next((found[c] for c in wanted if c in found), AccordError)
    try:
        return cls(retmsg)
    except TypeError:
        # A subclass with its own constructor signature: keep the class, skip its constructor.
        error = cls.__new__(cls)
        AccordError.__init__(error, retmsg)
        return error

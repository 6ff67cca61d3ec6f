from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PartyAddress(_message.Message):
    __slots__ = ("role", "party_id")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    role: str
    party_id: int
    def __init__(self, role: _Optional[str] = ..., party_id: _Optional[int] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("request_id", "job_id", "source", "destination", "body")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    job_id: str
    source: PartyAddress
    destination: PartyAddress
    body: bytes
    def __init__(self, request_id: _Optional[str] = ..., job_id: _Optional[str] = ..., source: _Optional[_Union[PartyAddress, _Mapping]] = ..., destination: _Optional[_Union[PartyAddress, _Mapping]] = ..., body: _Optional[bytes] = ...) -> None: ...

class Reply(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    def __init__(self, body: _Optional[bytes] = ...) -> None: ...

class TransferHeader(_message.Message):
    __slots__ = ("request_id", "job_id", "component", "task_version", "tag", "source", "destination", "total_bytes")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    TASK_VERSION_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    job_id: str
    component: str
    task_version: int
    tag: str
    source: PartyAddress
    destination: PartyAddress
    total_bytes: int
    def __init__(self, request_id: _Optional[str] = ..., job_id: _Optional[str] = ..., component: _Optional[str] = ..., task_version: _Optional[int] = ..., tag: _Optional[str] = ..., source: _Optional[_Union[PartyAddress, _Mapping]] = ..., destination: _Optional[_Union[PartyAddress, _Mapping]] = ..., total_bytes: _Optional[int] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("header", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: TransferHeader
    data: bytes
    def __init__(self, header: _Optional[_Union[TransferHeader, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class PushAck(_message.Message):
    __slots__ = ("received_bytes",)
    RECEIVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    received_bytes: int
    def __init__(self, received_bytes: _Optional[int] = ...) -> None: ...

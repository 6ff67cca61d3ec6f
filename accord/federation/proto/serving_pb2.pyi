from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Instance(_message.Message):
    __slots__ = ("sample_id", "feature_data")
    class FeatureDataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SAMPLE_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURE_DATA_FIELD_NUMBER: _ClassVar[int]
    sample_id: str
    feature_data: _containers.ScalarMap[str, float]
    def __init__(self, sample_id: _Optional[str] = ..., feature_data: _Optional[_Mapping[str, float]] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("service_id", "model_id", "model_version", "instance", "with_partials")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    WITH_PARTIALS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    model_id: str
    model_version: str
    instance: Instance
    with_partials: bool
    def __init__(self, service_id: _Optional[str] = ..., model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., instance: _Optional[_Union[Instance, _Mapping]] = ..., with_partials: _Optional[bool] = ...) -> None: ...

class PartyScore(_message.Message):
    __slots__ = ("role", "party_id", "partial")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    role: str
    party_id: int
    partial: float
    def __init__(self, role: _Optional[str] = ..., party_id: _Optional[int] = ..., partial: _Optional[float] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("sample_id", "score", "label", "partials")
    SAMPLE_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PARTIALS_FIELD_NUMBER: _ClassVar[int]
    sample_id: str
    score: float
    label: int
    partials: _containers.RepeatedCompositeFieldContainer[PartyScore]
    def __init__(self, sample_id: _Optional[str] = ..., score: _Optional[float] = ..., label: _Optional[int] = ..., partials: _Optional[_Iterable[_Union[PartyScore, _Mapping]]] = ...) -> None: ...

class PredictReply(_message.Message):
    __slots__ = ("model_id", "model_version", "prediction")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: str
    prediction: Prediction
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., prediction: _Optional[_Union[Prediction, _Mapping]] = ...) -> None: ...

class BatchPredictRequest(_message.Message):
    __slots__ = ("service_id", "model_id", "model_version", "instances", "with_partials")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    WITH_PARTIALS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    model_id: str
    model_version: str
    instances: _containers.RepeatedCompositeFieldContainer[Instance]
    with_partials: bool
    def __init__(self, service_id: _Optional[str] = ..., model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., instances: _Optional[_Iterable[_Union[Instance, _Mapping]]] = ..., with_partials: _Optional[bool] = ...) -> None: ...

class BatchPredictReply(_message.Message):
    __slots__ = ("model_id", "model_version", "predictions")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: str
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ...) -> None: ...

"""FATE's upload conf (``flow data upload -c``), with FATE's field names and defaults.

Keys FATE's testsuites and clients carry that mean nothing to this store (the storage engine, the
testsuite's ``role`` and expected ``count``, ...) are accepted and ignored; any other unknown key is an
error, since a misspelt field would otherwise silently fall back to its default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from accord.errors import ComponentParameterError, UploadFileError
from accord.storage.names import name_problem

MAX_PARTITIONS = 1024  # FATE accepts 1 <= partition < 1024
MAX_DELIMITER_CHARS = 16  # the width of table_meta.id_delimiter

# Accepted for FATE compatibility; they choose engines and job settings this store does not have.
IGNORED_KEYS = frozenset(
    {
        "storage_engine",
        "storage_address",
        "use_local_data",
        "role",
        "count",
        "backend",
        "work_mode",
        "party_id",
        "task_cores",
        "computing_engine",
        "federation_engine",
        "eggroll_run",
        "spark_run",
        "options",
        "block_size",
    }
)


class UploadConf(BaseModel):
    """One upload: which file, which table, and how the file is laid out."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    file: str = Field(
        description="the delimited text file; relative paths are searched for, see resolve_file"
    )
    table_name: str = Field(validation_alias=AliasChoices("table_name", "name"))
    namespace: str
    head: int = Field(default=1, description="1: the first line is the header; 0: no header line")
    partition: int = Field(default=10, ge=1, lt=MAX_PARTITIONS, description="kept as the table's partitions")
    id_delimiter: str = Field(default=",", description="the field separator")
    extend_sid: bool = Field(default=False, description="generate ids; the whole line becomes the values")
    auto_increasing_sid: bool = Field(default=False, description="with extend_sid: ids 0, 1, 2, ...")
    drop: int = Field(default=0, description="1: replace an existing table; 0: merge into it by id")
    with_meta: bool = False
    meta: dict[str, Any] | None = Field(default=None, description="kept in the schema when with_meta is set")

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if key not in IGNORED_KEYS}
        return data

    @field_validator("table_name", "namespace")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} {problem}")
        return value

    @field_validator("file")
    @classmethod
    def _some_file(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the file to upload")
        return value

    @field_validator("head", "drop")
    @classmethod
    def _zero_or_one(cls, value: int) -> int:
        if value not in (0, 1):
            raise ValueError(f"must be 0 or 1, got {value}")
        return value

    @field_validator("id_delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        if "\n" in value or "\r" in value:
            raise ValueError("must not contain a line break")
        if len(value) > MAX_DELIMITER_CHARS:
            raise ValueError(f"has {len(value)} characters, more than {MAX_DELIMITER_CHARS}")
        return value

    @classmethod
    def parse(cls, values: Mapping[str, Any], *, source: str = "upload conf") -> UploadConf:
        """``values`` as a conf, or :class:`ComponentParameterError` naming every bad field."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            raise _conf_error(error, source) from None

    @classmethod
    def load(cls, path: Path) -> UploadConf:
        """A conf file; its relative ``file`` is resolved later against the conf's directory first."""
        from accord.dsl_compiler import read_json_file

        return cls.parse(read_json_file(path, "upload conf"), source=f"upload conf {path.name}")

    def resolve_file(self, search_dirs: Sequence[Path]) -> Path:
        """The file to upload: ``file`` itself when absolute, else the first of ``search_dirs``/file."""
        given = Path(self.file).expanduser()
        candidates = [given] if given.is_absolute() else [directory / given for directory in search_dirs]
        for candidate in candidates:
            if candidate.is_file():
                return candidate.absolute()
        for candidate in candidates:
            if candidate.exists():
                raise UploadFileError(
                    f"upload file {str(candidate)!r} is not a regular file",
                    hint="point 'file' at the delimited text file itself",
                    file=str(candidate),
                )
        tried = ", ".join(repr(str(c)) for c in candidates)
        raise UploadFileError(
            f"upload file {self.file!r} does not exist (tried {tried})",
            hint="give an absolute path, or a path relative to the conf file's directory or the current one",
            file=self.file,
        )

    def to_fate(self) -> dict[str, Any]:
        """The conf with FATE's field names, as the HTTP API takes it."""
        return self.model_dump(mode="json", exclude_none=True)


def _conf_error(error: ValidationError, source: str) -> ComponentParameterError:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "<conf>"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not an upload field"
        elif item["type"] == "missing":
            message = "is required"
        problems.append(f"{field!r} {message}")
    accepted = ", ".join(UploadConf.model_fields)
    return ComponentParameterError(
        f"{source}: {'; '.join(problems)}",
        hint=f"the upload fields are {accepted}",
        fields=[".".join(str(part) for part in item["loc"]) for item in error.errors()],
    )

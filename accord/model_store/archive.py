"""The portable archive of one party's model version, and its verification.

A zip holding ``manifest.json`` (identity, the job's DSL and conf, each component's file and sha256),
``manifest.sha256`` (``sha256sum`` format, so ``sha256sum -c`` checks it by hand) and ``models/*.json``,
the models' canonical bytes exactly as the store keeps them. The checksums chain: the manifest's own
checksum vouches for the manifest, which vouches for every model file. They catch damage and edits, not
forgery: whoever rewrites a model can rewrite both checksums too. That is what the exporting site's
signature is for (``signature.json`` and ``signer.pem``, see :mod:`accord.model_store.signing`).

Manifests are deterministic (sorted keys, no times), as are the zip's entries (fixed timestamps, sorted):
the manifest's sha256 is the same on every site that exports a version, so it identifies the version;
the archive's bytes differ only by the signature.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.errors import DataFormatError
from accord.model_store.signing import SIGNATURE, SIGNER
from accord.model_store.store import VersionKey, encode_model, sha256

FORMAT: Literal["accord-model"] = "accord-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_CHECKSUM = "manifest.sha256"
MODELS_DIR = "models/"
# Far above any model a component writes; stops a small hostile zip from inflating without bound.
MAX_UNPACKED_BYTES = 1 << 30
_EPOCH = (1980, 1, 1, 0, 0, 0)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HINT = "export the model again from the site that holds it; the archive was damaged or edited"


class ComponentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128)
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["accord-model"] = "accord-model"
    format_version: int = Field(default=FORMAT_VERSION, ge=1)
    model_id: str = Field(min_length=1, max_length=255)
    model_version: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=32)
    party_id: int = Field(ge=0)
    job_type: str | None = None
    job_status: str | None = None
    components: tuple[ComponentEntry, ...] = Field(min_length=1)
    train_dsl: dict[str, Any] | None = None
    train_runtime_conf: dict[str, Any] | None = None
    party_plan: dict[str, Any] | None = None

    @property
    def version(self) -> VersionKey:
        return VersionKey(self.model_id, self.model_version, self.role, self.party_id)


def model_file(component: str) -> str:
    return f"{MODELS_DIR}{quote(component, safe='')}.json"


def entry(component: str, body: bytes) -> ComponentEntry:
    return ComponentEntry(name=component, file=model_file(component), sha256=sha256(body), size=len(body))


# Given the manifest's sha256, the members that sign it (see accord.model_store.signing).
Sign = Callable[[str], Mapping[str, bytes]]


@dataclass(frozen=True)
class Archive:
    """An archive whose checksums hold; its signature is still to be checked."""

    manifest: Manifest
    models: dict[str, bytes]
    manifest_sha256: str
    # signature.json and signer.pem, those of them the archive holds.
    signature: dict[str, bytes]


def write_archive(manifest: Manifest, models: Mapping[str, bytes], sign: Sign | None = None) -> bytes:
    """The archive of ``manifest`` and its ``models`` (component → canonical bytes), signed by ``sign``."""
    body = json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True).encode() + b"\n"
    members = {MANIFEST: body, MANIFEST_CHECKSUM: f"{sha256(body)}  {MANIFEST}\n".encode()}
    if sign is not None:
        members.update(sign(sha256(body)))
    for component in manifest.components:
        members[component.file] = models[component.name]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()


def read_archive(data: bytes, source: str) -> Archive:
    """The manifest, every model's bytes, the manifest's checksum and the signature's members, once
    every checksum holds.

    Anything wrong raises :class:`~accord.errors.DataFormatError` naming the file at fault.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataFormatError(
            f"{source} is not a model archive (not a zip file)",
            hint="pass the file `accord model export` wrote",
        ) from None
    with archive:
        members = _members(archive, source)
        manifest, manifest_sha = _manifest(members, source)
        models: dict[str, bytes] = {}
        for component in manifest.components:
            models[component.name] = _model(members, component, source)
        listed = {MANIFEST, MANIFEST_CHECKSUM, SIGNATURE, SIGNER, *(c.file for c in manifest.components)}
        extra = sorted(set(members) - listed)
        if extra:
            raise DataFormatError(
                f"{source} holds files its manifest does not list: {', '.join(extra)}", hint=_HINT
            )
    signature = {name: members[name] for name in (SIGNATURE, SIGNER) if name in members}
    return Archive(manifest, models, manifest_sha, signature)


def _members(archive: zipfile.ZipFile, source: str) -> dict[str, bytes]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise DataFormatError(f"{source} holds the same file name twice", hint=_HINT)
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise DataFormatError(
            f"{source} unpacks to more than {MAX_UNPACKED_BYTES >> 20} MiB",
            hint="a model archive holds JSON models only; check that this is one",
        )
    try:
        return {info.filename: archive.read(info) for info in infos}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataFormatError(f"{source} is a damaged zip file: {error}", hint=_HINT) from None


def _manifest(members: Mapping[str, bytes], source: str) -> tuple[Manifest, str]:
    for name in (MANIFEST, MANIFEST_CHECKSUM):
        if name not in members:
            raise DataFormatError(f"{source} has no {name}", hint=_HINT)
    body = members[MANIFEST]
    recorded = members[MANIFEST_CHECKSUM].decode("ascii", errors="replace").split()
    if not recorded or not _HEX64.fullmatch(recorded[0]):
        raise DataFormatError(f"{MANIFEST_CHECKSUM} in {source} holds no sha256", hint=_HINT)
    actual = sha256(body)
    if actual != recorded[0]:
        raise DataFormatError(
            f"{MANIFEST} in {source} does not match {MANIFEST_CHECKSUM} (sha256 {actual}, recorded "
            f"{recorded[0]}): it was changed after export",
            hint=_HINT,
        )
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{MANIFEST} in {source} is not JSON: {error}", hint=_HINT) from None
    newer = raw.get("format_version") if isinstance(raw, dict) else None
    if isinstance(newer, int) and newer > FORMAT_VERSION:
        raise DataFormatError(
            f"{source} is archive format {newer}; this accord reads up to {FORMAT_VERSION}",
            hint="import it with a newer accord",
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "manifest"
        raise DataFormatError(
            f"{MANIFEST} in {source}: {where}: {first['msg']}",
            hint="pass an archive `accord model export` wrote",
        ) from None
    names = [c.name for c in manifest.components]
    if len(set(names)) != len(names) or len({c.file for c in manifest.components}) != len(names):
        raise DataFormatError(f"{MANIFEST} in {source} lists a component or a file twice", hint=_HINT)
    return manifest, actual


def _model(members: Mapping[str, bytes], component: ComponentEntry, source: str) -> bytes:
    what = f"the model of {component.name} ({component.file})"
    if not component.file.startswith(MODELS_DIR) or component.file not in members:
        raise DataFormatError(f"{source} lacks {what}, which its manifest lists", hint=_HINT)
    body = members[component.file]
    if sha256(body) != component.sha256 or len(body) != component.size:
        raise DataFormatError(
            f"{what} in {source} does not match its sha256 in the manifest: it was changed after export",
            hint=_HINT,
        )
    try:
        model = json.loads(body)
        canonical = isinstance(model, dict) and encode_model(model) == body
    except (ValueError, UnicodeDecodeError, DataFormatError):
        canonical = False
    # Canonical bytes only: the store identifies a model by the checksum of exactly these bytes.
    if not canonical:
        raise DataFormatError(f"{what} in {source} is not a model's canonical JSON", hint=_HINT)
    return body

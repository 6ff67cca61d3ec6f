"""Online inference of sealed models (HeteroNN): the guest's key per load, hosts' shares, opening answers.

A HeteroNN host's contribution to the interactive layer, ``z_h = a_h·(S_h + E_h)ᵀ``, needs the guest's
share ``S_h`` of the host's weights, which the host must not see, and the host's bottom output ``a_h``
and own share ``E_h``, which the guest must not see. So at ``model load`` the guest makes a Paillier
key pair for the published model (a fresh one each load, of the model's ``encrypt_param.key_length``)
and sends each host ``[[S_h]]`` under it (:meth:`SealingScorer.sealed_share`); the host computes
``[[z_h]]`` for every row of its lookup table, folding in its plaintext ``a_h`` and ``E_h`` and
re-randomizing, and keeps the ciphertexts. A request then costs the host a look-up and the guest
``len(columns)`` decryptions per host and row, and the guest learns what the predict job shows it:
``z_h`` of the rows it asks about. The host never learns ``S_h``.

Key material lives beside ``published.json``, named by the load's seal id, so a restarted site (or an
``accord serve`` process sharing the home) serves the same load again: the guest's private key in
``serving/keys/<seal>.json`` (readable by the owner only) and each host's sealed share in
``serving/sealed/<seal>.<party id>.json``. Loading the model again replaces both.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from accord.components.sdk.scoring import HostAnswers, SealingScorer
from accord.crypto import EncryptedVector, PrivateKey, PublicKey, generate_keypair
from accord.errors import ArgumentError, DataFormatError, DataMismatchError, RecordNotFound
from accord.serving.messages import Partials, SealedShare
from accord.serving.registry import PublishedEntry, PublishedPart

GUEST = "guest"


class SealStore:
    """The key material of a site's sealed parts, under ``<home>/serving``."""

    def __init__(self, home: Path) -> None:
        self.keys = home / "serving" / "keys"
        self.shares = home / "serving" / "sealed"

    def new_key(self, key_length: int) -> tuple[str, PublicKey, PrivateKey]:
        """A fresh key pair, saved under a new seal id (the guest's, at load)."""
        seal = uuid.uuid4().hex
        public, private = generate_keypair(key_length)
        numbers = {name: format(value, "x") for name, value in (("p", private.p), ("q", private.q))}
        _write_private(self.keys / f"{seal}.json", json.dumps(numbers))
        return seal, public, private

    def key(self, seal: str) -> PrivateKey:
        path = self.keys / f"{seal}.json"
        try:
            numbers = json.loads(path.read_text(encoding="utf-8"))
            p, q = int(numbers["p"], 16), int(numbers["q"], 16)
        except FileNotFoundError:
            raise RecordNotFound(
                f"the key its hosts' answers are sealed under ({path}) is gone",
                hint="load the model again (`accord model load`), which makes a new key",
            ) from None
        except (ValueError, KeyError, TypeError):
            raise DataFormatError(
                f"{path} is not a sealed-model key", hint="load the model again (`accord model load`)"
            ) from None
        return PrivateKey(p, q, PublicKey(p * q))

    def save_share(self, party_id: int, share: SealedShare) -> None:
        """A host's sealed share (ciphertexts only: the host cannot read it)."""
        _write_private(self._share_path(share.seal, party_id), share.model_dump_json())

    def share(self, entry: PublishedEntry, component: str) -> SealedShare:
        """The guest's sealed share a host's ``entry`` was loaded with."""
        if entry.seal is None:
            raise ArgumentError(
                f"{entry.key}: the guest sent no sealed weights, which {component}'s answers need",
                hint="load the model from a guest's site that runs this Accord version",
            )
        party_id = entry.party_id
        path = self._share_path(entry.seal, party_id)
        try:
            return SealedShare.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise RecordNotFound(
                f"the guest's sealed weights for host {party_id} ({path}) are gone",
                hint="load the model again from the guest's site (`accord model load`)",
            ) from None
        except ValidationError:
            raise DataFormatError(
                f"{path} is not a sealed share", hint="load the model again from the guest's site"
            ) from None

    def discard(self, entry: PublishedEntry) -> None:
        """Remove what ``entry``'s load left (once another load of it is published)."""
        if entry.seal is None:
            return
        path = (
            self.keys / f"{entry.seal}.json"
            if entry.role == GUEST
            else self._share_path(entry.seal, entry.party_id)
        )
        path.unlink(missing_ok=True)

    @contextmanager
    def dropped_on_failure(self, entry: PublishedEntry) -> Iterator[None]:
        """Discard ``entry``'s key material if the block (the load that made it) fails."""
        try:
            yield
        except BaseException:
            self.discard(entry)
            raise

    def _share_path(self, seal: str, party_id: int) -> Path:
        return self.shares / f"{seal}.{party_id}.json"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(partial, path)


def with_new_key(seals: SealStore, part: PublishedPart) -> tuple[PublishedPart, dict[int, SealedShare]]:
    """A sealed model's guest part under a fresh key, and each host's share of the guest's weights
    encrypted under it; any other part as it is, and no shares."""
    scorer = part.scorer
    if not isinstance(scorer, SealingScorer) or not part.hosts:
        return part, {}
    seal, public, private = seals.new_key(scorer.key_length)
    shares = {
        host: SealedShare(seal=seal, public_key=public.to_dict(), share=scorer.sealed_share(host, public))
        for host in part.hosts
    }
    return replace(part, entry=part.entry.model_copy(update={"seal": seal}), key=private), shares


def opened(key: PrivateKey, replies: Mapping[int, Partials], rows: int) -> dict[int, HostAnswers]:
    """Each host's sealed answers (by party id), decrypted into what the guest's scorer combines."""
    answers: dict[int, HostAnswers] = {}
    for host, reply in replies.items():
        if reply.partials or reply.vectors or len(reply.sealed) != rows:
            raise DataMismatchError(
                f"host {host} answered values in the clear, but the guest's model takes its hosts' "
                "answers sealed under its key",
                hint="publish the same model version on the guest and its hosts (`accord model load`)",
            )
        vectors = [EncryptedVector.from_bytes(data, key.public_key) for data in reply.sealed]
        if any(len(vector) != len(reply.columns) for vector in vectors):
            raise DataMismatchError(
                f"host {host} sealed rows of other lengths than its {len(reply.columns)} columns",
                hint="the host's site may run an incompatible Accord version",
            )
        # One batch of decryptions (spread over the crypto pool when it is worth it), row after row.
        values = key.decrypt(EncryptedVector.concatenate(vectors)).reshape(rows, len(reply.columns))
        answers[host] = HostAnswers(tuple(reply.columns), values)
    return answers

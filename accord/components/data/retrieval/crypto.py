"""The cryptography of SIR: ids onto the group, Pohlig-Hellman encryption, 1-of-N OT and AES.

- Ids: ``H(id + salt)`` (FATE's DH intersection hashing) squared mod p, an element of the prime-order
  subgroup; encrypting with key e is x -> x^e mod p, so E_a(E_b(x)) = E_b(E_a(x)).
- Oblivious transfer, 1 of N (Hauck and Loss's scheme, as FATE's OT_Hauck): the sender publishes
  S = g^y; the receiver, choosing c, answers R = S^c g^x; the sender's key i is
  KDF(S, R, (R S^-i)^y) and the receiver's KDF(S, R, S^x), equal to the sender's key c only.
- Non-committing encryption: AES-256-GCM under the OT key, so the receiver opens one block only and
  a wrong key fails authentication instead of yielding garbage.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accord.crypto._gmp import invert, mpz, powmod, powmod_base_list

GENERATOR = 4  # a square, so it generates the subgroup of prime order (p - 1) / 2
NONCE = 12


def id_elements(ids: Sequence[str], method: str, salt: str, p: int) -> list[int]:
    """Each id as an element of the prime-order subgroup."""
    elements = []
    for sid in ids:
        text = (sid + salt).encode("utf-8")
        data = text if method == "none" else hashlib.new(method, text).digest()
        x = int.from_bytes(data, "big") % p or 1
        elements.append(x * x % p)
    return elements


def new_key(p: int) -> int:
    """A Pohlig-Hellman key (also an OT secret): uniform in [1, q - 1]."""
    return secrets.randbelow((p - 1) // 2 - 1) + 1


def encrypt(elements: Sequence[int], key: int, p: int) -> list[int]:
    return [int(x) for x in powmod_base_list([mpz(x) for x in elements], key, p)]


def _kdf(p: int, s: int, r: int, point: int) -> bytes:
    width = (p.bit_length() + 7) // 8
    body = b"".join(int(v).to_bytes(width, "big") for v in (s, r, point))
    return hashlib.sha256(b"accord.sir.ot" + body).digest()


def ot_sender_setup(p: int) -> tuple[int, int]:
    """(y, S)."""
    y = new_key(p)
    return y, int(powmod(GENERATOR, y, p))


def ot_receiver_choose(p: int, s: int, choice: int) -> tuple[int, bytes]:
    """(R to send, the key of block ``choice``)."""
    x = new_key(p)
    r = int(powmod(s, choice, p) * powmod(GENERATOR, x, p) % p)
    return r, _kdf(p, s, r, int(powmod(s, x, p)))


def ot_sender_keys(p: int, y: int, s: int, r: int, count: int) -> list[bytes]:
    """The key of each of ``count`` blocks."""
    step = invert(powmod(s, y, p), p)
    point = powmod(r, y, p)
    keys = []
    for _ in range(count):
        keys.append(_kdf(p, s, r, int(point)))
        point = point * step % p
    return keys


def seal(key: bytes, payload: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, payload, None)


def unseal(key: bytes, sealed: bytes) -> bytes | None:
    """The payload, or None when ``key`` is not the block's key (or the block was altered)."""
    try:
        return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], None)
    except InvalidTag:
        return None

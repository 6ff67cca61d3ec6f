"""Paillier homomorphic encryption for the federated components (hetero logistic regression).

The arbiter generates the key pair and keeps the private key; guest and host encrypt with the
public key, add plaintexts and ciphertexts, multiply by scalars and compute ``X^T·[[d]]`` for their
own feature matrix, and send ciphertexts back for decryption::

    public_key, private_key = generate_keypair(1024)          # arbiter
    encrypted = public_key.encrypt(residuals)                 # guest
    gradient = encrypted.dot(features) + mask                 # host
    plain = private_key.decrypt(EncryptedVector.from_bytes(gradient.to_bytes(), public_key))

Modules: :mod:`~accord.crypto.paillier` (keys), :mod:`~accord.crypto.fixedpoint` (encoding of
reals), :mod:`~accord.crypto.vector` (arithmetic), :mod:`~accord.crypto.multiexp` (the ``X^T·[[d]]``
kernel), :mod:`~accord.crypto.obfuscator` (fast encryption randomness), :mod:`~accord.crypto.pool`
(multi-core batches), :mod:`~accord.crypto.codec` (byte layout).
"""

from accord.crypto.paillier import PrivateKey, PublicKey, generate_keypair
from accord.crypto.pool import parallelism, set_parallelism, shutdown_pool, start_pool
from accord.crypto.vector import EncryptedVector

__all__ = [
    "EncryptedVector",
    "PrivateKey",
    "PublicKey",
    "generate_keypair",
    "parallelism",
    "set_parallelism",
    "shutdown_pool",
    "start_pool",
]

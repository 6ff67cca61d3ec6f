"""Keys shared by the crypto tests, and the pool switched off unless a test turns it on."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from accord.crypto import PrivateKey, PublicKey, generate_keypair, set_parallelism, shutdown_pool

KeyPair = tuple[PublicKey, PrivateKey]


@pytest.fixture(scope="session")
def keys_512() -> KeyPair:
    return generate_keypair(512)


@pytest.fixture(scope="session")
def keys_1024() -> KeyPair:
    return generate_keypair(1024)


@pytest.fixture(autouse=True)
def in_process() -> Iterator[None]:
    """Every test computes in-process unless it calls set_parallelism itself."""
    set_parallelism(1)
    yield
    set_parallelism(1)


@pytest.fixture(scope="session", autouse=True)
def pool_stopped_at_end() -> Iterator[None]:
    yield
    shutdown_pool()
    set_parallelism(None)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)

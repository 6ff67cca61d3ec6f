"""HeteroNN's online scorers (ComponentBase.scorer) against its predict job, with two hosts.

The guest seals each host's share of its interactive weights under a fresh 1024-bit Paillier key, each
host answers ``[[z_h]]`` per row, the guest decrypts and combines: the scores equal the predict job's
(nn_1, the trained model applied again) to 1e-6, and each host's answer decrypts to
``a_h·(S_h + E_h)ᵀ`` computed in plain numpy from the stored shares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accord.components.nn import portable
from accord.components.nn.hetero import HeteroNN
from accord.components.nn.hetero.model import HostNet, tensor
from accord.components.nn.hetero.scoring import GuestNNScorer, HostNNScorer
from accord.components.sdk.scoring import HostAnswers, SealedAnsweringScorer, SealingScorer
from accord.crypto import EncryptedVector, generate_keypair
from accord.errors import DataFormatError, DataMismatchError
from tests.components.harness import ComponentHarness
from tests.components.nn.hetero.test_hetero_nn import BREAST, GUEST, HOST, HOST2, conf, load, run

TOLERANCE = 1e-6


def test_two_hosts_score_online_as_the_predict_job(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = run(tmp_path, harnesses, conf(hosts=2, epochs=2), (*BREAST, BREAST[1]), predict=True)
    component = HeteroNN()
    guest_model = harness.model("guest", GUEST, "nn_1")
    guest = component.scorer(guest_model, role="guest", component="nn_1")
    assert isinstance(guest, SealingScorer) and guest.key_length == 1024
    public, private = generate_keypair(guest.key_length)
    guest_rows, host_rows = load(BREAST[0]), load(BREAST[1])
    host_ids = [str(sid) for sid in host_rows.ids()]
    guest_ids = [str(sid) for sid in guest_rows.ids()]
    order = [host_ids.index(sid) for sid in guest_ids]
    answers: dict[int, HostAnswers] = {}
    for index, party in enumerate((HOST, HOST2)):
        host_model = harness.model("host", party, "nn_1")
        host = component.scorer(host_model, role="host", component="nn_1")
        assert isinstance(host, SealedAnsweringScorer) and tuple(host.header) == tuple(host_rows.header)
        sealed = host.sealed_answers(host_rows.features(), guest.sealed_share(party, public), public)
        values = np.array([private.decrypt(EncryptedVector.from_bytes(sealed[row], public)) for row in order])
        answers[party] = HostAnswers(host.columns, values)
        # The plain reference: the host's bottom output times both shares of its interactive weights.
        net = HostNet(host_model["meta"])
        net.load(host_model["param"], "nn_1")
        net.bottom.eval()
        activations = net.bottom(tensor(host_rows.features()[order])).detach().double().numpy()
        shares = portable.state_array(guest_model["param"]["host_shares"][index]) + net.noise
        np.testing.assert_allclose(values, activations @ shares.T, atol=1e-9)
    scores, labels = guest.outcome(guest.combine(guest_rows.features(), answers))
    predicted = harness.output("guest", GUEST, "nn_1").table.to_pandas()
    expected = dict(zip(predicted.iloc[:, 0].astype(str), predicted["predict_score"], strict=True))
    results = dict(zip(predicted.iloc[:, 0].astype(str), predicted["predict_result"], strict=True))
    assert max(abs(scores[row] - expected[sid]) for row, sid in enumerate(guest_ids)) <= TOLERANCE
    assert all(labels[row] == int(results[sid]) for row, sid in enumerate(guest_ids))

    with pytest.raises(DataMismatchError, match="not one of the model's hosts"):
        guest.sealed_share(12345, public)
    with pytest.raises(DataMismatchError, match="host 10001 did not answer"):
        guest.combine(guest_rows.features(), {HOST: answers[HOST]})


def test_a_model_without_its_header_is_refused() -> None:
    model = {"module": "HeteroNN", "meta": {"interactive": {"out_dim": 2}}, "param": {}}
    with pytest.raises(DataFormatError, match="train the model again"):
        GuestNNScorer(model, "nn_0")
    with pytest.raises(DataFormatError, match="header"):
        HostNNScorer(model, "nn_0")

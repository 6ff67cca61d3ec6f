"""Party ids inside stored models, re-keyed for ``model migrate``; refusing parties a site does not host."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from accord.errors import ArgumentError, DataMismatchError, PartyNotHosted
from accord.model_store.migrate import ModelMigration, parse_request
from accord.model_store.rekey import rekey_model
from accord.persistence import Database, JobRepository
from accord.settings import Settings
from accord.site.checkpoints import CheckpointQuery, CheckpointReader

from .support import Home

# FATE's own example: arbiter-10000#guest-9999#host-10000 to arbiter-100#guest-99#host-100.
MOVES = {("guest", 9999): 99, ("host", 10000): 100, ("arbiter", 10000): 100}


def test_binning_and_selection_shapes() -> None:
    guest_binning = {
        "role": "guest",
        "party_id": 9999,
        "header": ["x0", "x1"],
        "host_results": {"10000": {"host_10000_0": {"iv": 0.5}, "host_10000_1": {"iv": 0.1}}},
        "split_points": [0.25, 10000.0, 9999],
    }
    moved = rekey_model(guest_binning, MOVES, "binning")
    assert moved["party_id"] == 99
    assert moved["host_results"] == {"100": {"host_100_0": {"iv": 0.5}, "host_100_1": {"iv": 0.1}}}
    # Numbers that are data, not party ids, are never touched, even when they equal one.
    assert moved["split_points"] == [0.25, 10000.0, 9999] and moved["header"] == ["x0", "x1"]

    selection = {"host_col_names": [{"party_id": "10000", "col_names": ["host_10000_3"]}]}
    assert rekey_model(selection, MOVES, "selection") == {
        "host_col_names": [{"party_id": "100", "col_names": ["host_100_3"]}]
    }
    pearson = {"peer": {"role": "host", "party_id": 10000}, "sitename": "host:10000"}
    assert rekey_model(pearson, MOVES, "pearson") == {
        "peer": {"role": "host", "party_id": 100},
        "sitename": "host:100",
    }
    conf = {"role": {"guest": [9999], "host": [10000]}, "initiator": {"role": "guest", "party_id": 9999}}
    assert rekey_model(conf, MOVES, "conf") == {
        "role": {"guest": [99], "host": [100]},
        "initiator": {"role": "guest", "party_id": 99},
    }
    # A party not migrated keeps its id.
    assert rekey_model({"role": "host", "party_id": 10001}, MOVES, "m") == {"role": "host", "party_id": 10001}


def test_party_id_without_role_is_refused_when_ambiguous() -> None:
    apart = {("host", 10000): 100, ("arbiter", 10000): 200}
    with pytest.raises(DataMismatchError, match="without its role"):
        rekey_model({"cols": [{"party_id": 10000}]}, apart, "the model of hetero_feature_selection_0")
    # With the role beside it, the same id moves by its role.
    assert rekey_model({"role": "arbiter", "party_id": 10000}, apart, "m")["party_id"] == 200


def test_request_checks() -> None:
    base = {
        "role": {"guest": [9999], "host": [10000]},
        "migrate_role": {"guest": [99], "host": [100]},
        "execute_party": {"guest": [9999]},
        "migrate_initiator": {"role": "guest", "party_id": 99},
        "model_id": "guest-9999#host-10000#model",
        "model_version": "v1",
    }
    parsed = parse_request(base)
    assert parsed.new_model_id == "guest-99#host-100#model" and parsed.unify_model_version
    with pytest.raises(ArgumentError, match="migrate_role must have the roles"):
        parse_request({**base, "migrate_role": {"guest": [99]}})
    with pytest.raises(ArgumentError, match="migrate_initiator"):
        parse_request({**base, "migrate_initiator": {"role": "guest", "party_id": 9999}})
    with pytest.raises(ArgumentError, match="needs model_version"):
        parse_request({k: v for k, v in base.items() if k != "model_version"})
    with pytest.raises(ArgumentError, match="unify_model_version"):
        parse_request({**base, "unify_model_version": "../x"})


def test_other_parties_are_refused_and_logged(
    home: Home, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(home=tmp_path, local_party_ids=[9999])
    database: Database = home.database
    reader = CheckpointReader(settings, JobRepository(database), home.store)
    query = CheckpointQuery("guest-9999#host-10000#model", "v1", "host", 10000, "hetero_lr_0")
    with caplog.at_level(logging.WARNING), pytest.raises(PartyNotHosted, match="not a party of this site"):
        reader.list(query)
    assert any("refused checkpoint read of host 10000" in r.getMessage() for r in caplog.records)

    migration = ModelMigration(home.store, home.jobs, settings.hosts_party)
    request = parse_request(
        {
            "role": {"guest": [9999], "host": [10000]},
            "migrate_role": {"guest": [99], "host": [100]},
            "execute_party": {"guest": [9999], "host": [10000]},
            "migrate_initiator": {"role": "guest", "party_id": 99},
            "model_id": "guest-9999#host-10000#model",
            "model_version": "v1",
        }
    )
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING),
        pytest.raises(PartyNotHosted, match="execute_party names host 10000"),
    ):
        migration.check_hosted(request)
    assert any("refused model migrate" in r.getMessage() for r in caplog.records)

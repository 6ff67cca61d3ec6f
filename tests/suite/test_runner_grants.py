"""In cluster mode the suite grants a table uploaded to one site to the initiators of its jobs elsewhere.

Recording stand-ins for the two sites' APIs (the runner's own ``SiteApi`` protocol): what is under test
is which calls the runner makes, not the sites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.suite.runner import SuiteRunner
from accord.suite.testsuite import SuiteTask, Upload
from accord.suite.testsuite import Testsuite as Suite

GUEST, HOST = 9999, 10000


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((path, body))
        return {"retcode": 0, "data": {}}

    def upload(self, conf: dict[str, Any], source: Path) -> dict[str, Any]:
        self.calls.append(("upload", conf))
        return {"retcode": 0, "data": {"count": 3}}


def _suite(tmp_path: Path) -> Suite:
    conf = {
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
    }
    uploads = tuple(
        Upload(role, {"file": str(tmp_path / f"{name}.csv"), "namespace": "ns", "table_name": name})
        for role, name in (("guest_0", "g"), ("host_0", "h"))
    )
    return Suite(tmp_path / "suite.json", uploads, (SuiteTask("lr", {}, conf, None),), ())


def test_tables_on_another_site_are_granted_to_the_initiator(tmp_path: Path) -> None:
    guest, host = Recorder(), Recorder()
    runner = SuiteRunner(lambda role: host if role.startswith("host") else guest)
    runner.upload(_suite(tmp_path))
    assert guest.calls == [("upload", _suite(tmp_path).uploads[0].conf)]
    grant = ("/v1/table/grant", {"namespace": "ns", "table_name": "h", "party": str(GUEST)})
    assert host.calls[-1] == grant and len(host.calls) == 2


def test_one_site_for_every_role_grants_nothing(tmp_path: Path) -> None:
    site = Recorder()
    SuiteRunner(lambda role: site).upload(_suite(tmp_path))
    assert [path for path, _ in site.calls] == ["upload", "upload"]

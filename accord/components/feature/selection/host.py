"""The host's side of the IV filters: it never sees an IV, only which of its columns the guest kept.

With select_federated the host sends the anonymous names of the columns it still selects and keeps
those whose names come back; without it the IV filter keeps all of them.
"""

from __future__ import annotations

from accord.components.feature.selection import names
from accord.components.feature.selection.guest import left_tag, select_tag
from accord.components.feature.selection.state import Selection
from accord.components.feature.selection.steps import Step
from accord.components.sdk.transfer import Transfer
from accord.errors import DataMismatchError


def iv_step(selection: Selection, step: Step, position: int, *, transfer: Transfer, party_id: int) -> None:
    if not step.select_federated:
        for index in selection.select:
            selection.keep(selection.header[index])
        return
    width = len(selection.header)
    sent = [names.anonymous("host", party_id, index) for index in selection.select]
    transfer.remote(sent, role="guest", tag=select_tag(position), index=0)
    kept = transfer.get(role="guest", tag=left_tag(position), index=0)
    for name in kept:
        found = names.index_of(str(name), "host", party_id, width)
        if found is None or found not in selection.select:
            raise DataMismatchError(f"the guest kept a column {name!r} this host did not offer")
        selection.keep(selection.header[found])
    selection.keep_one(pick_high=True)

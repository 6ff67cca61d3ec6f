"""The guest's side of the IV and SBT filters: it holds every value (its own and, by anonymous name,
the hosts'): IV from the binning model, feature importance from the SecureBoost model.

With select_federated, each host first sends the anonymous names of the columns it still selects; the
guest ranks its columns and theirs together (threshold, top_k or top_percentile over the union, a host
threshold per host where given) and sends each host only the anonymous names of its columns kept.
Without it, the guest filters its own columns and the hosts keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from accord.components.feature.selection import metrics
from accord.components.feature.selection.state import Selection, pick
from accord.components.feature.selection.steps import Step
from accord.components.sdk.transfer import Transfer
from accord.errors import DataFormatError, OperatingError


def select_tag(position: int) -> str:
    return f"selection.iv.{position}.select"


def left_tag(position: int) -> str:
    return f"selection.iv.{position}.left"


def _host_threshold(step: Step, host: int, hosts: int) -> float:
    given = step.host_thresholds
    if given is None:
        return step.threshold
    if isinstance(given, list):
        if len(given) != hosts:
            raise OperatingError(
                f"host_thresholds has {len(given)} values but the job has {hosts} hosts",
                hint="give one threshold per host, in the order of the conf's host list",
            )
        return float(given[host])
    return float(given)


def iv_step(
    selection: Selection,
    step: Step,
    position: int,
    *,
    binning: Mapping[str, Any] | None,
    transfer: Transfer,
    host_ids: Sequence[int],
    component: str,
) -> list[Selection]:
    """Run one IV filter on the guest; returns each host's view (empty without select_federated)."""
    if binning is None:
        raise OperatingError(
            f"{component} runs {step.name} but was given no HeteroFeatureBinning model",
            hint='wire the binning component\'s model into "isometric_model"',
        )
    model = binning
    own = metrics.require_iv(metrics.guest_iv(model, step.merge), selection.select_names, component)

    def of_host(party_id: int) -> Mapping[str, float]:
        iv = metrics.host_iv(model, party_id, step.merge)
        if iv is None:
            raise DataFormatError(
                f"{component} ranks host {party_id}'s columns by IV but the binning model has none "
                "for them (binning ran local_only?)",
                hint="set select_federated false (or local_only true) or bin with local_only false",
            )
        return iv

    return ranked_step(selection, step, position, own, of_host, transfer=transfer, host_ids=host_ids)


def ranked_step(
    selection: Selection,
    step: Step,
    position: int,
    own: list[float],
    of_host: Callable[[int], Mapping[str, float]],
    *,
    transfer: Transfer,
    host_ids: Sequence[int],
) -> list[Selection]:
    """Rank the guest's selected columns (``own`` values, in order) and, with select_federated, the
    hosts' by anonymous name (``of_host(party_id)``; a name it lacks counts 0, as in FATE) together;
    tell each host which of its columns are kept. Returns each host's view."""
    values = list(own)
    owners: list[int] = [-1] * len(values)
    thresholds = [step.threshold] * len(values)
    hosts: list[Selection] = []
    if step.select_federated:
        sent = transfer.get(role="host", tag=select_tag(position))
        for host, (party_id, anonymous) in enumerate(zip(host_ids, sent, strict=True)):
            found = of_host(party_id)
            hosts.append(Selection.start(anonymous, range(len(anonymous))))
            values.extend(found.get(name, 0.0) for name in anonymous)
            owners.extend([host] * len(anonymous))
            thresholds.extend([_host_threshold(step, host, len(host_ids))] * len(anonymous))
    kept = pick(values, step.filter_type, step.threshold, True, thresholds)
    names = selection.select_names + [name for view in hosts for name in view.header]
    for position_, (owner, name, value) in enumerate(zip(owners, names, values, strict=True)):
        view = selection if owner < 0 else hosts[owner]
        view.values[name] = value
        if position_ in kept:
            view.keep(name)
    selection.keep_one(pick_high=True)
    for host, view in enumerate(hosts):
        view.keep_one(pick_high=True)
        transfer.remote(view.left_names, role="host", tag=left_tag(position), index=host)
    return hosts

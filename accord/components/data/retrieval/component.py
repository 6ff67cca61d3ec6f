"""The SecureInformationRetrieval component (FATE 1.11's SIR): guest (who asks) and host (who holds).

The guest's output is its rows' ids with the retrieved values: the ``target_cols`` as features
(header ``target_cols``), or the host's label as the label ``retrieved_value`` when no column is
named; an id the host does not have keeps a missing value (NaN), FATE's "unretrieved". The host's
output is its input, as FATE's. Both save FATE's model: the parameters as run (meta) and the
coverage and block number (param), and log FATE's ``sir`` metric.
"""

from __future__ import annotations

import numpy as np

from accord.components.data.retrieval import groups
from accord.components.data.retrieval.guest import run_guest
from accord.components.data.retrieval.host import run_host
from accord.components.data.retrieval.params import SecureInformationRetrievalParam
from accord.components.sdk import ComponentBase, ComponentContext, Dataset, DataTable
from accord.errors import ComponentFeatureUnsupported, DataFormatError, OperatingError

Context = ComponentContext[SecureInformationRetrievalParam]
RETRIEVED = "retrieved_value"


class SecureInformationRetrieval(ComponentBase[SecureInformationRetrievalParam]):
    params = SecureInformationRetrievalParam

    def check_supported(self, params: SecureInformationRetrievalParam, component: str) -> None:
        if not params.raw and params.key_length not in groups.OFFSETS:
            sizes = ", ".join(str(bits) for bits in groups.OFFSETS)
            raise ComponentFeatureUnsupported(
                f"{component}: SecureInformationRetrieval dh_params.key_length {params.key_length} is not "
                f"supported (the commutative cipher runs over the RFC 2409/3526 MODP groups)",
                hint=f"use dh_params.key_length {sizes}",
                field="dh_params.key_length",
            )

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        if ctx.role == "guest":
            ids, values, found = run_guest(ctx, data)
            ctx.save_data(_output(ctx, data, ids, values))
        else:
            found = run_host(ctx, data)
            ctx.save_table(data)
        params = ctx.params
        ctx.save_model(
            {
                "SecureInformationRetrievalMeta": {
                    "security_level": params.security_level,
                    "oblivious_transfer_protocol": params.oblivious_transfer_protocol,
                    "commutative_encryption": params.commutative_encryption,
                    "non_committing_encryption": params.non_committing_encryption,
                    "key_size": params.key_length,
                    "raw_retrieval": params.raw_retrieval,
                },
                "SecureInformationRetrievalParam": found,
            }
        )
        ctx.tracker.log_metric(
            "sir",
            "train",
            [["Coverage", found["coverage"]], ["Block number", found["block_num"]]],
            metric_type="INTERSECTION",
        )
        ctx.tracker.set_summary(found)
        ctx.log.info("%s: coverage %.4f, %s blocks", ctx.component, found["coverage"], found["block_num"])


def _output(ctx: Context, data: DataTable, ids: list[str], values: np.ndarray) -> Dataset:
    names = ctx.params.target_cols
    if names:
        return Dataset.instances(ids, values, header=names, sid_name=data.sid_name)
    return Dataset.instances(
        ids,
        np.zeros((len(ids), 0)),
        header=[],
        labels=values[:, 0],
        sid_name=data.sid_name,
        label_name=RETRIEVED,
    )


def _input(ctx: Context) -> DataTable:
    data = ctx.input_table("data")
    if data is None:
        raise OperatingError(
            f"{ctx.component} has no input data",
            hint='give it one: "input": {"data": {"data": ["data_transform_0.data"]}}',
        )
    if data.kind != "instances":
        raise DataFormatError(f"{ctx.component} needs parsed rows", hint="put a DataTransform before it")
    return data

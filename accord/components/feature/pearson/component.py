"""The HeteroPearson component (FATE 1.11): Pearson correlations of the guest's and a host's columns.

Each party standardizes its chosen columns (column_indexes, column_names) and computes their local
correlations (and, with calc_local_vif, their VIF); these never leave the party. With cross_parties,
the guest and the first host compute the cross block corr(x_g, x_h) = Z_g^T Z_h / n without either
seeing the other's values:

1. both send the anonymous names of their chosen columns, which have sigma > 0, the row count and a
   digest of their ids (rows are taken in id order on both sides; the digests must agree);
2. the guest generates a Paillier key pair (fixpoint_bit_length bits) and sends [[z_g]] per column;
3. the host computes [[Z_h^T z_g]] with EncryptedVector.dot, adds a uniform mask r in Z_N to every
   element, refreshes the randomness and sends the ciphertexts;
4. the guest decrypts (uniform residues: it learns nothing) and returns them;
5. the host removes r, divides by n: it holds the cross matrix and sends it to the guest.

Both parties end with what FATE's model gives them: their own local correlations (and VIF) and the
cross matrix against the peer's anonymous column names. The rows pass on unchanged. The cross block is
computed from rows gathered in the task's process (n x chosen columns floats); the local passes run
on the task's engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.feature.pearson import guest, host, local
from accord.components.feature.pearson import model as pearson_model
from accord.components.feature.pearson.params import PearsonParam
from accord.components.feature.selection import names
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.errors import ComponentParameterError, DataMismatchError

Context = ComponentContext[PearsonParam]
ANONYMOUS = "pearson.anonymous"


class HeteroPearson(ComponentBase[PearsonParam]):
    params = PearsonParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        header = list(data.header)
        model: dict[str, Any] = {
            "module": pearson_model.MODULE,
            "role": ctx.role,
            "party_id": ctx.party_id,
            "need_run": params.need_run,
            "header": header,
            "anonymous": {name: names.anonymous(ctx.role, ctx.party_id, i) for i, name in enumerate(header)},
        }
        if not params.need_run:
            ctx.save_table(data)
            ctx.save_model(model)
            return
        try:
            chosen = params.chosen(data.header)
        except ValueError as error:
            raise ComponentParameterError(
                f"{ctx.component} (HeteroPearson): {error}",
                hint="name columns of this party's header (a role-specific conf for each party)",
                component=ctx.component,
            ) from None
        std = local.standardize(data, chosen)
        size = len(chosen)
        if len(std.remaining) < size:
            dropped = [header[chosen[i]] for i in range(size) if i not in std.remaining]
            ctx.log.warning(
                "%s: columns of standard deviation 0 are left out: %s", ctx.component, dropped[:10]
            )
        local_corr = std.local_corr
        model.update(
            names=[header[i] for i in chosen],
            local_corr=pearson_model.plain_matrix(
                local.spread(local_corr, std.remaining, std.remaining, (size, size))
            ),
            shapes=[size],
        )
        summary: dict[str, Any] = {"num_local_features": size, "local_corr": model["local_corr"]}
        if params.calc_local_vif:
            found = np.full(size, np.nan)
            if std.remaining:
                found[std.remaining] = local.vif(local_corr)
            model["local_vif"] = pearson_model.plain_vector(found)
        ctx.progress(1, 2, "local correlation")
        if params.cross_parties:
            _cross(ctx, data, chosen, std, model)
            summary["num_remote_features"] = len(model["peer_names"])
            summary["corr"] = model["cross_corr"]
        ctx.progress(2, 2, "done")
        ctx.tracker.set_summary(summary)
        ctx.save_table(data)
        ctx.save_model(model)
        ctx.log.info("%s: correlations of %d columns", ctx.component, size)

    def predict(self, ctx: Context) -> None:
        # FATE's HeteroPearson has no predict: in a predict job the rows pass through.
        ctx.save_table(_input(ctx))


def _cross(
    ctx: Context, data: DataTable, chosen: list[int], std: local.Standardized, model: dict[str, Any]
) -> None:
    peer_role = "host" if ctx.role == "guest" else "guest"
    peer_id = ctx.party_ids(peer_role)[0]
    ids, z = local.standardized_rows(data, chosen, std)
    mine = {
        "names": [names.anonymous(ctx.role, ctx.party_id, i) for i in chosen],
        "remaining": std.remaining,
        "count": len(ids),
        "digest": local.ids_digest(ids),
    }
    ctx.transfer.remote(mine, role=peer_role, tag=ANONYMOUS, index=0)
    theirs = ctx.transfer.get(role=peer_role, tag=ANONYMOUS, index=0)
    if theirs["count"] != mine["count"] or theirs["digest"] != mine["digest"]:
        raise DataMismatchError(
            f"{ctx.component}: this {ctx.role} has {mine['count']} rows, the {peer_role} "
            f"{theirs['count']}, or other ids",
            hint="give both parties the Intersection's output",
        )
    peer_names = [str(name) for name in theirs["names"]]
    peer_remaining = [int(i) for i in theirs["remaining"]]
    mine_size, peer_size = len(chosen), len(peer_names)
    if std.remaining and peer_remaining:
        if ctx.role == "guest":
            block = guest.cross(z, key_length=ctx.params.fixpoint_bit_length, transfer=ctx.transfer)
        else:
            block = host.cross(z, len(ids), use_mix_rand=ctx.params.use_mix_rand, transfer=ctx.transfer).T
    else:
        block = np.zeros((len(std.remaining), len(peer_remaining)))
    cross = local.spread(block, std.remaining, peer_remaining, (mine_size, peer_size))
    parties = [f"(guest,{ctx.party_ids('guest')[0]})", f"(host,{ctx.party_ids('host')[0]})"]
    shapes = [mine_size, peer_size] if ctx.role == "guest" else [peer_size, mine_size]
    model.update(
        peer={"role": peer_role, "party_id": peer_id},
        peer_names=peer_names,
        cross_corr=pearson_model.plain_matrix(cross),
        shapes=shapes,
        parties=parties,
    )


def _input(ctx: Context) -> DataTable:
    return ctx.instances_input("correlates parsed feature columns")

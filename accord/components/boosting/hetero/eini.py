"""EINI inference for HeteroSecureBoost predict jobs (FATE's ``EINI_inference``): the guest learns each
row's score without learning which way a row went at any host's split.

The protocol, hosts taken in the job's order:

1. The guest sends every host the trees' skeletons: node ids, children and owners, no thresholds and no
   weights (a host's copy of the model keeps only its own splits).
2. For each row the guest puts a value on every leaf of every tree: the leaf's weight times its learning
   rate plus the tree's share of the init score where the guest's own splits let the row reach that
   leaf, 0 elsewhere. It encrypts them under a key made for this prediction and sends them to the first
   host.
3. Each host but the last multiplies every value by 1 where its own splits let the row reach the leaf
   and by 0 elsewhere, and hands the result on to the next host.
4. The last host sums, per row and output, the values at the leaves its splits let the row reach: of
   each tree only the leaf every party can reach is left. With ``EINI_random_mask`` it multiplies the
   sums by one random factor in [1, 2), as FATE does, so the guest cannot read a leaf's exact weight
   from a score (scores are scaled; labels, which depend on signs and argmaxes, are not).
5. The guest decrypts the raw scores.

Every ciphertext a host hands on is rerandomized, so no party can match it against the ciphertexts it
sent (a product of known ciphertexts would otherwise give away which leaves a host kept).
``EINI_complexity_check``: a host refuses when the product, over the trees that have its splits, of the
number of leaves below them is under FATE's threshold (10^9): small models would let the guest guess.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.boosting.core.tree import Tree
from accord.components.sdk import ComponentContext
from accord.crypto import EncryptedVector, PublicKey, generate_keypair
from accord.errors import ComponentFeatureUnsupported, PermissionDenied

# FATE's consts.EINI_TREE_COMPLEXITY.
SAFE_COMPLEXITY = 10**9

# One node of a tree's skeleton: (id, is_leaf, left child, right child, owner).
SkeletonNode = tuple[int, bool, int, int, str]
GoesLeft = Callable[[int], np.ndarray]


def refuse_unsupported(param: Mapping[str, Any], component: str) -> None:
    """EINI sums one value per leaf and output: multi-output trees (a vector per leaf) are refused."""
    if param.get("multi_output"):
        raise ComponentFeatureUnsupported(
            f"{component}: EINI_inference with multi-output trees is not supported",
            hint="predict without EINI_inference, or train with multi_mode single_output",
            field="EINI_inference",
        )


def skeletons(trees: Sequence[Tree]) -> list[list[SkeletonNode]]:
    return [[(n.id, n.is_leaf, n.left, n.right, n.party) for n in tree.nodes] for tree in trees]


def reachable(
    skeleton: Sequence[Sequence[Any]], rows: int, owns: Callable[[int], bool], goes_left: GoesLeft
) -> np.ndarray:
    """(rows, leaves): which leaves of one tree each row can reach knowing only this party's splits
    (both ways at another party's node). Leaves in id order, the order every party uses."""
    ordered = sorted((tuple(node) for node in skeleton), key=lambda node: int(node[0]))
    if not ordered:
        return np.zeros((rows, 0), dtype=bool)
    reach = {int(ordered[0][0]): np.ones(rows, dtype=bool)}
    leaves: list[np.ndarray] = []
    for node_id, is_leaf, left, right, _ in ordered:
        here = reach.pop(int(node_id), np.zeros(rows, dtype=bool))
        if is_leaf:
            leaves.append(here)
        elif owns(int(node_id)):
            go = goes_left(int(node_id))
            reach[int(left)], reach[int(right)] = here & go, here & ~go
        else:
            reach[int(left)], reach[int(right)] = here, here.copy()
    return np.column_stack(leaves)


# ---- guest ------------------------------------------------------------------------------------------


def guest_raw_scores(
    ctx: ComponentContext[Any], param: Mapping[str, Any], values: np.ndarray, key_length: int
) -> np.ndarray:
    """The guest's side: (rows, outputs) raw scores from the hosts' merged sums."""
    refuse_unsupported(param, ctx.component)
    trees = [Tree.from_json(tree) for tree in param["trees"]]
    ctx.transfer.remote(skeletons(trees), role="host", tag="eini.skeletons")
    for index in range(len(ctx.party_ids("host"))):
        refused = ctx.transfer.get(role="host", tag=f"eini.ready.{index}", index=index)
        if refused is not None:
            raise PermissionDenied(
                f"host {index} refused: {refused}",
                hint="train more or deeper trees, or predict without EINI_complexity_check",
            )
    leaf_values, dims = _leaf_values(param, trees, values)
    public_key, private_key = generate_keypair(key_length)
    encrypted = public_key.encrypt(leaf_values.reshape(-1))
    ctx.transfer.remote(
        {
            "key": public_key.to_dict(),
            "values": encrypted.to_bytes(),
            "width": leaf_values.shape[1],
            "dims": dims,
        },
        role="host",
        tag="eini.values.0",
        index=0,
    )
    last = len(ctx.party_ids("host")) - 1
    merged = ctx.transfer.get(role="host", tag="eini.merged", index=last)
    sums = private_key.decrypt(EncryptedVector.from_bytes(merged, public_key))
    return np.asarray(sums, dtype=np.float64).reshape(values.shape[0], int(param["tree_dim"]))


def _leaf_values(
    param: Mapping[str, Any], trees: Sequence[Tree], values: np.ndarray
) -> tuple[np.ndarray, list[int]]:
    """(rows, all leaves) values the guest encrypts, and each leaf's output dimension."""
    tree_dim = int(param["tree_dim"])
    init = np.asarray(param["init_score"], dtype=np.float64).reshape(-1)
    rounds = max(len(trees) // tree_dim, 1)
    rates = param.get("learning_rates") or [param["learning_rate"]] * len(trees)
    columns: list[np.ndarray] = []
    dims: list[int] = []
    for t, tree in enumerate(trees):
        dim = t % tree_dim
        mask = reachable(
            skeletons([tree])[0], values.shape[0], _guest_owns(tree), _guest_goes_left(tree, values)
        )
        leaves = sorted(tree.leaves, key=lambda node: node.id)
        weights = np.asarray(
            [float(np.asarray(node.weight, dtype=np.float64).reshape(-1)[0]) for node in leaves]
        )
        columns.append(mask * (weights * float(rates[t]) + init[dim] / rounds))
        dims.extend([dim] * len(weights))
    matrix = np.hstack(columns) if columns else np.zeros((values.shape[0], 0))
    return matrix, dims


def _guest_owns(tree: Tree) -> Callable[[int], bool]:
    guest_nodes = {node.id for node in tree.nodes if node.party == "guest"}
    return guest_nodes.__contains__


def _guest_goes_left(tree: Tree, values: np.ndarray) -> GoesLeft:
    by_id = {node.id: node for node in tree.nodes}

    def goes_left(node_id: int) -> np.ndarray:
        node = by_id[node_id]
        return _left_of(values[:, node.feature], node.threshold, node.missing_left)

    return goes_left


def _left_of(column: np.ndarray, threshold: float | None, missing_left: bool) -> np.ndarray:
    """Go-left of each value at a split: at most the threshold (none: the last bin, every present
    value), a missing value the way the split sends missing ones."""
    limit = np.inf if threshold is None else float(threshold)
    return np.asarray(np.where(np.isnan(column), bool(missing_left), column <= limit), dtype=bool)


# ---- hosts ------------------------------------------------------------------------------------------


def host_merge(
    ctx: ComponentContext[Any],
    own_trees: Sequence[Mapping[str, Any]],
    values: np.ndarray,
    *,
    random_mask: bool,
    complexity_check: bool,
) -> None:
    """A host's side: keep the leaves its splits allow, hand on to the next host, or (last) sum per row and
    output and send the sums to the guest."""
    shapes: list[list[list[Any]]] = ctx.transfer.get(role="guest", tag="eini.skeletons", index=0)
    own = [{int(node_id): split for node_id, split in tree.items()} for tree in own_trees]
    index, hosts = ctx.party_index, len(ctx.party_ids("host"))
    refusal = _complexity_refusal(shapes, own, ctx.component) if complexity_check else None
    # The guest hears every host's answer before it encrypts anything, so a refusal fails the job at once.
    ctx.transfer.remote(refusal and str(refusal), role="guest", tag=f"eini.ready.{index}", index=0)
    if refusal is not None:
        raise refusal
    sent = (
        ctx.transfer.get(role="guest", tag="eini.values.0", index=0)
        if index == 0
        else ctx.transfer.get(role="host", tag=f"eini.values.{index}", index=index - 1)
    )
    public_key = PublicKey.from_dict(sent["key"])
    encrypted = EncryptedVector.from_bytes(sent["values"], public_key)
    mask = np.hstack([_own_reach(shape, splits, values) for shape, splits in zip(shapes, own, strict=True)])
    if index < hosts - 1:
        kept = encrypted.multiply(mask.reshape(-1).astype(np.float64)).rerandomized()
        ctx.transfer.remote(
            {**sent, "values": kept.to_bytes()}, role="host", tag=f"eini.values.{index + 1}", index=index + 1
        )
        return
    width, dims = int(sent["width"]), np.asarray(sent["dims"], dtype=np.int64)
    outputs = int(dims.max()) + 1 if dims.size else 1
    groups = [
        (row * width + np.flatnonzero(mask[row] & (dims == dim))).tolist()
        for row in range(values.shape[0])
        for dim in range(outputs)
    ]
    sums = encrypted.group_sums(groups)
    if random_mask:
        sums = sums * (random.SystemRandom().random() + 1.0)
    ctx.transfer.remote(sums.rerandomized().to_bytes(), role="guest", tag="eini.merged", index=0)


def _own_reach(
    shape: Sequence[Sequence[Any]], splits: Mapping[int, Mapping[str, Any]], values: np.ndarray
) -> np.ndarray:
    def goes_left(node_id: int) -> np.ndarray:
        split = splits[node_id]
        return _left_of(values[:, int(split["feature"])], split["threshold"], split["missing_left"])

    return reachable(shape, values.shape[0], lambda node_id: node_id in splits, goes_left)


def _complexity_refusal(
    shapes: Sequence[Sequence[Sequence[Any]]], own: Sequence[Mapping[int, Any]], component: str
) -> PermissionDenied | None:
    complexity = 1
    for shape, splits in zip(shapes, own, strict=True):
        below = _leaves_below_own(shape, splits)
        if below:
            complexity *= below
    if complexity >= SAFE_COMPLEXITY:
        return None
    return PermissionDenied(
        f"{component}: EINI_complexity_check: this host's trees have complexity {complexity}, below the "
        f"safe threshold {SAFE_COMPLEXITY}, so the host refuses EINI inference",
        hint="train more or deeper trees, or predict without EINI_complexity_check",
    )


def _leaves_below_own(shape: Sequence[Sequence[Any]], splits: Mapping[int, Any]) -> int:
    """How many leaves of one tree lie below one of this host's splits."""
    children = {int(node[0]): (bool(node[1]), int(node[2]), int(node[3])) for node in shape}
    count, stack = 0, [(int(shape[0][0]), False)] if shape else []
    while stack:
        node_id, below = stack.pop()
        is_leaf, left, right = children[node_id]
        if is_leaf:
            count += int(below)
            continue
        below = below or node_id in splits
        stack += [(left, below), (right, below)]
    return count

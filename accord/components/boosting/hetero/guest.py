"""The guest's side of HeteroSecureBoost: labels, gradients, the boosting rounds and the model.

Each round it computes gradients and hessians from the objective, grows one tree (or one per class,
single_output multi-class) with :class:`TreeBuilder`, updates the scores from the leaves every row
reached, records the loss, validates every ``validation_freqs`` rounds and stops early as FATE does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accord.components.boosting.core.objectives import objective_for
from accord.components.boosting.core.tree import Tree, leaf_weights
from accord.components.boosting.hetero import data
from accord.components.boosting.hetero.builder import Allowed, TreeBuilder
from accord.components.boosting.hetero.params import HeteroSecureBoostParam
from accord.components.boosting.hetero.scores import raw_scores, walker
from accord.components.boosting.hetero.validation import Validator
from accord.components.sdk import ComponentContext, Dataset
from accord.crypto import paillier
from accord.errors import DataFormatError, DataMismatchError


class GuestBooster:
    def __init__(self, ctx: ComponentContext[HeteroSecureBoostParam]) -> None:
        self.ctx = ctx
        self.param = ctx.params
        self.hosts = len(ctx.party_ids("host"))
        self.rng = np.random.default_rng(self.param.random_seed)

    def fit(self) -> dict[str, Any]:
        ctx, param = self.ctx, self.param
        train = data.train_dataset(ctx)
        validate = ctx.input_dataset("validate_data")
        labels = train.labels()
        if labels is None:
            raise DataFormatError(
                f"{ctx.component}: the guest's data has no label", hint="set with_label: true for the guest"
            )
        classes = sorted(set(labels.tolist())) if param.task_type == "classification" else []
        y = np.searchsorted(classes, labels).astype(np.float64) if classes else labels
        objective = objective_for(
            param.task_type,
            param.objective_param.objective or "cross_entropy",
            param.objective_param.params or [],
            len(classes),
        )
        weights = train.weights()
        self.header = list(train.header)
        zero_missing = param.zero_missing
        values = data.features_of(train, zero_missing)
        binned = data.quantile_bins(values, param.bin_num, param.binning_error)
        public_key, private_key = paillier.generate_keypair(param.encrypt_param.key_length)
        ctx.transfer.remote(
            {
                "ids": [str(i) for i in train.ids()],
                "valid_ids": [str(i) for i in validate.ids()] if validate is not None else None,
                "key": public_key.to_dict(),
                "zero_as_missing": zero_missing,
            },
            role="host",
            tag="setup",
        )
        replies = [ctx.transfer.get(role="host", tag=f"aligned.{i}", index=i) for i in range(self.hosts)]
        if any(reply["problem"] for reply in replies):
            raise DataMismatchError(
                "; ".join(reply["problem"] for reply in replies if reply["problem"]),
                hint="feed every party the output of the same Intersection component",
            )
        host_widths = [int(reply["features"]) for reply in replies]
        layered = param.strategy == "layered"
        max_depth = param.host_depth + param.guest_depth if layered else param.tree_param.max_depth
        builder = TreeBuilder(
            ctx,
            private_key,
            binned,
            rule=param.tree_param.rule(),
            max_depth=max_depth,
            use_missing=param.missing_used,
            compress=param.cipher_compress,
            decimals=param.cipher_compress_error,
            hosts=self.hosts,
        )
        multi_output = param.multi_mode == "multi_output" and objective.outputs > 1
        per_round = 1 if multi_output else objective.outputs
        warm = self._warm_start(classes, objective.name)
        init = np.asarray(warm["init_score"]) if warm else objective.initial_scores(y, weights)
        scores = np.tile(init, (len(train), 1))
        trees: list[Tree] = []
        rates: list[float] = []
        if warm:
            decided = [ctx.transfer.get(role="host", tag=f"warm.{i}", index=i) for i in range(self.hosts)]
            scores = raw_scores(warm, values, decided)
            trees = [Tree.from_json(tree) for tree in warm["trees"]]
            rates = list(warm.get("learning_rates") or [warm["learning_rate"]] * len(trees))
        validator = Validator(ctx, objective, classes, validate, init) if validate is not None else None
        valid_values = data.features_of(validate, zero_missing) if validate is not None else None
        importance: dict[str, list[float]] = {}
        losses: list[float] = []
        converged, best_round = False, None
        for round_ in range(param.num_trees):
            ctx.check_cancelled()
            g, h = objective.gradients(y, scores)
            if weights is not None:
                g, h = g * weights[:, None], h * weights[:, None]
            rows, g, h = self._goss(g, h)
            for k in range(per_round):
                t = len(trees)
                gk, hk = (g, h) if multi_output else (g[:, k : k + 1], h[:, k : k + 1])
                grown = builder.grow(
                    t,
                    gk,
                    hk,
                    rows,
                    self._sample(len(train.header)),
                    [self._sample(width) for width in host_widths],
                    self._allowed(round_, max_depth),
                )
                trees.append(grown.tree)
                rates.append(param.learning_rate)
                outputs = gk.shape[1]
                update = leaf_weights(grown.tree, grown.positions, outputs) * param.learning_rate
                if multi_output:
                    scores += update
                else:
                    scores[:, k] += update[:, 0]
                self._importance(grown, importance)
                if validator is not None and valid_values is not None:
                    decided = [
                        ctx.transfer.get(role="host", tag=f"valid.{t}.{i}", index=i)
                        for i in range(self.hosts)
                    ]
                    validator.add(
                        grown.tree,
                        walker(grown.tree, valid_values, decided),
                        k,
                        multi_output,
                        param.learning_rate,
                    )
            loss = objective.loss(y, scores, weights)
            losses.append(loss)
            ctx.tracker.log_metric("train", "loss", [[round_, loss]], metric_type="LOSS")
            ctx.log.info("tree %d/%d: loss %.6f", round_ + 1, param.num_trees, loss)
            ctx.progress(round_ + 1, param.num_trees)
            stop = False
            if validator is not None and param.validate_at(round_ + 1):
                stop = validator.evaluate(round_, param)
                best_round = validator.best_round
            if param.n_iter_no_change and len(losses) > 1 and abs(losses[-2] - losses[-1]) < param.tol:
                converged = True
            if stop or converged:
                break
        ctx.transfer.remote({"stop": True}, role="host", tag=f"tree.{len(trees)}")
        probabilities = objective.transform(scores)
        outputs_data = [
            data.predictions(
                train,
                probabilities,
                task_type=param.task_type,
                classes=classes,
                threshold=param.predict_param.threshold,
                data_type=data.TRAIN,
            )
        ]
        if validator is not None and validate is not None:
            outputs_data.append(
                data.predictions(
                    validate,
                    objective.transform(validator.scores),
                    task_type=param.task_type,
                    classes=classes,
                    threshold=param.predict_param.threshold,
                    data_type=data.VALIDATE,
                )
            )
        ctx.save_data(_concatenate(outputs_data))
        kind = param.tree_param.feature_importance_type
        ranked = {name: (v[0] if kind == "split" else v[1]) for name, v in importance.items()}
        ctx.tracker.log_metric(
            "train",
            "feature_importance",
            [[name, value] for name, value in sorted(ranked.items(), key=lambda kv: -kv[1])],
            metric_type="FEATURE_IMPORTANCE",
            meta={"type": kind},
        )
        return {
            "header": list(train.header),
            "trees": [tree.to_json() for tree in trees],
            "tree_dim": 1 if multi_output else per_round,
            "outputs": objective.outputs,
            "multi_output": multi_output,
            "init_score": [float(v) for v in init],
            "classes": classes,
            "objective": objective.name,
            "objective_param": getattr(objective, "param", None),
            "learning_rate": param.learning_rate,
            "learning_rates": rates,
            "task_type": param.task_type,
            "threshold": param.predict_param.threshold,
            "zero_as_missing": zero_missing,
            "feature_importance": {name: {"split": v[0], "gain": v[1]} for name, v in importance.items()},
            "feature_importance_type": param.tree_param.feature_importance_type,
            "losses": losses,
            "rounds": len(losses),
            "best_round": best_round,
            "is_converged": converged,
        }

    def _warm_start(self, classes: list[float], objective: str) -> dict[str, Any] | None:
        """The model to continue boosting from (FATE's warm start: a model input to a training job)."""
        models = self.ctx.input_models()
        if not models:
            return None
        old: dict[str, Any] = models[0]["param"]
        if (
            old.get("header") != self.header
            or old.get("classes") != classes
            or old.get("objective") != objective
        ):
            raise DataMismatchError(
                f"{self.ctx.component}: the warm-start model was trained on other features, labels or "
                "objective than this data and these parameters",
                hint="continue from a model of the same task on data transformed the same way",
            )
        if (old.get("multi_output") or False) != (
            self.param.multi_mode == "multi_output" and len(classes) > 2
        ):
            raise DataMismatchError(
                f"{self.ctx.component}: the warm-start model's multi_mode differs from this one",
                hint="keep multi_mode as the model was trained",
            )
        return old

    def _goss(self, g: np.ndarray, h: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """GOSS: keep the top_rate rows by |g|, draw other_rate of the rest and amplify them."""
        param = self.param
        if not param.run_goss:
            return None, g, h
        n = g.shape[0]
        order = np.argsort(-np.abs(g).sum(axis=1), kind="stable")
        top, other = int(n * param.top_rate), int(n * param.other_rate)
        drawn = self.rng.choice(order[top:], size=min(other, n - top), replace=False)
        factor = (1 - param.top_rate) / param.other_rate
        g, h = g.copy(), h.copy()
        g[drawn] *= factor
        h[drawn] *= factor
        return np.sort(np.concatenate([order[:top], drawn])).astype(np.int64), g, h

    def _sample(self, width: int) -> np.ndarray:
        rate = self.param.subsample_feature_rate
        if rate >= 1 or width == 0:
            return np.arange(width)
        chosen = max(1, round(width * rate))
        return np.sort(self.rng.choice(width, size=chosen, replace=False))

    def _allowed(self, round_: int, max_depth: int) -> Allowed:
        param, hosts = self.param, self.hosts
        if param.complete_secure and round_ == 0:
            return lambda depth: (True, [False] * hosts)
        if param.strategy == "mix":
            turn = (round_ // param.tree_num_per_party) % (hosts + 1)
            return lambda depth: (turn == 0, [turn == i + 1 for i in range(hosts)])
        if param.strategy == "layered":
            return lambda depth: (depth >= param.host_depth, [depth < param.host_depth] * hosts)
        return lambda depth: (True, [True] * hosts)

    def _importance(self, grown: Any, importance: dict[str, list[float]]) -> None:
        for node in grown.tree.nodes:
            if node.is_leaf:
                continue
            if node.party == "guest":
                name = self.header[node.feature]
            else:
                host, feature = grown.host_splits[node.id]
                name = f"host_{self.ctx.party_ids('host')[host]}_{feature}"
            entry = importance.setdefault(name, [0.0, 0.0])
            entry[0] += 1
            entry[1] += node.gain


def _concatenate(parts: list[Dataset]) -> Dataset:
    import pyarrow as pa

    if len(parts) == 1:
        return parts[0]
    return Dataset(pa.concat_tables([part.table for part in parts]), "predict")

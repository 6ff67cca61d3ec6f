"""Stepwise (FATE's ``stepwise_param.need_stepwise``) for HeteroLR, HeteroLinR and HeteroPoisson.

Each candidate model is one run of the component's own fit on a :class:`ScopedContext` whose
``train_data`` is the party's rows with only the candidate's columns (values tagged
``stepwise.<step>.<n>.``, metrics renamed ``<name>.step<step>.model<n>``, FATE's flow ids), with no
validation (FATE fits candidates on train_data alone). The guest runs the search
(:mod:`accord.components.stepwise.search`) and sends each step's plan: to every host only its own
columns to keep per fit (a host never learns the guest's columns, only, as in FATE, which of them are
in), to the arbiter how many fits. The arbiter, which alone holds the loss, sends the guest each fit's
final loss; the guest scores and chooses. At the end every party keeps the chosen fit's model (meta
``need_stepwise``: predicting takes the model's columns of the data) and data output (its predictions
of the train rows), and each recorded step is a ``stepwise_<step>`` metric (namespace ``train``,
type ``STEPWISE``) and a ``step_<step>`` summary entry, as FATE's.

As in FATE: cross validation wins over stepwise; stepwise takes train_data only (no validate, test or
model input); ``mode`` and ``role`` are validated and then taken from the component (FATE overwrites
them); the loss needs a single host.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pyarrow as pa

from accord.components.hetero_lr import common, tables
from accord.components.sdk import ComponentContext, DataTable, layout
from accord.components.sdk.dataset import FEATURES, LABEL
from accord.components.sdk.scoped import ScopedContext, data_ref
from accord.components.sdk.tables import load_table, save_table
from accord.components.stepwise.search import Criterion, Fit, Search, from_key
from accord.errors import ComponentFeatureUnsupported, DataFormatError, DslStructureError

Run = Callable[[ComponentContext[Any]], None]
METRIC_TYPE = "STEPWISE"


# ---- per batch (module level: the engines pickle it) --------------------------------------------


def keep_columns(keep: tuple[int, ...], batch: pa.RecordBatch) -> pa.RecordBatch:
    """The rows with only the feature columns at ``keep`` (in header order)."""
    position = batch.schema.get_field_index(FEATURES)
    if position < 0:
        return batch
    column = cast("pa.FixedSizeListArray[Any]", batch.column(position))
    width = column.type.list_size
    values = np.asarray(column.flatten().to_numpy(zero_copy_only=False), dtype=np.float64)
    kept = values.reshape(-1, width)[:, list(keep)] if width else values.reshape(-1, 0)
    if not keep:
        return batch.drop_columns([FEATURES])
    flat = pa.array(np.ascontiguousarray(kept).reshape(-1), type=pa.float64())
    return batch.set_column(position, FEATURES, pa.FixedSizeListArray.from_arrays(flat, len(keep)))


# ---- entry ----------------------------------------------------------------------------------------


def fit(ctx: ComponentContext[Any], fit_once: Run, criterion: Criterion, *, logistic: bool = False) -> None:
    """Run FATE's stepwise on this party with ``fit_once`` (the component's plain fit); ``criterion``
    is HeteroLinR's approximate one or the others', ``logistic`` whether the loss is HeteroLR's."""
    _refuse_inputs(ctx)
    hosts = len(ctx.party_ids("host"))
    if hosts != 1:
        raise ComponentFeatureUnsupported(
            f"{ctx.component}: stepwise scores models by their loss, which is computed with one host; "
            f"this job has {hosts}",
            hint="run stepwise with a single host (as FATE), or set stepwise_param.need_stepwise false",
        )
    if ctx.role == "guest":
        _Guest(ctx, fit_once, criterion, logistic).run()
    elif ctx.role == "host":
        _follow(ctx, fit_once, _train(ctx))
    else:
        _follow(ctx, fit_once, None)


def _refuse_inputs(ctx: ComponentContext[Any]) -> None:
    slots = {ref.slot for ref in ctx.inputs("data")}
    others = sorted(slots - {"train_data"})
    if "train_data" not in slots and ctx.role != "arbiter":
        raise DslStructureError(
            f"{ctx.component}: stepwise trains on train_data, and none is wired",
            hint="wire the training rows as train_data",
        )
    if others or ctx.input_models():
        raise DslStructureError(
            f"{ctx.component}: stepwise takes train_data only, this component also has "
            f"{others + (['model'] if ctx.input_models() else [])}",
            hint="drop the other inputs (as FATE requires), or set stepwise_param.need_stepwise false",
        )


def _train(ctx: ComponentContext[Any]) -> DataTable:
    train = tables.input_rows(ctx, "train_data")
    if train is None:
        raise DataFormatError(f"{ctx.component} has no train_data input", hint="wire train_data")
    return train


def _scoped(
    ctx: ComponentContext[Any],
    fit_once: Run,
    step: int,
    number: int,
    total_steps: int,
    train: DataTable | None,
    keep: list[int] | None,
) -> ScopedContext[Any]:
    """Fit one candidate: ``train`` with only the columns at ``keep`` (the arbiter has no rows)."""
    here = ctx.task.work_dir / "stepwise" / f"step_{step}_model_{number}"
    inputs_root, refs = None, None
    if train is not None and keep is not None:
        ref = data_ref("train_data", "stepwise_train_data")
        selected = train.with_table(
            train.table.map_batches(functools.partial(keep_columns, tuple(keep))),
            header=tuple(train.header[i] for i in keep),
        )
        inputs_root, refs = here / "in", [ref]
        save_table(selected, layout.data_path(inputs_root, ref.component, ref.output))
    scoped = ScopedContext(
        ctx,
        tag_prefix=f"stepwise.{step}.{number}.",
        outputs_root=here / "out",
        inputs_root=inputs_root,
        data_inputs=refs,
        models=[],
        metric_name=lambda name: f"{name}.step{step}.model{number}",
        share=(min(step, total_steps - 1), total_steps),
    )
    ctx.check_cancelled()
    fit_once(scoped)
    if scoped.saved_model is None:
        raise DataFormatError(f"{ctx.component}: stepwise model {number} of step {step} saved no model")
    return scoped


def _finish(ctx: ComponentContext[Any], chosen: ScopedContext[Any], summary: dict[str, Any]) -> None:
    """Every party keeps the chosen fit's model, its data output and summary (with the steps')."""
    assert chosen.saved_model is not None
    model = chosen.saved_model
    ctx.save_model({**model, "meta": {**model["meta"], "need_stepwise": True}})
    path = chosen.output_path()
    if path.exists():
        ctx.save_table(load_table(ctx.engine, path))
    else:
        ctx.save_data(common.empty_predictions())
    ctx.tracker.set_summary({**chosen.summary, **summary})


def _record(ctx: ComponentContext[Any], step: int, metas: dict[str, Any]) -> None:
    name = f"stepwise_{step}"
    ctx.tracker.log_metric("train", name, [[name, float(step)]], metric_type=METRIC_TYPE, meta=metas)


def _follow(ctx: ComponentContext[Any], fit_once: Run, train: DataTable | None) -> None:
    """A host or the arbiter: run the fits the guest plans, until it names the chosen one."""
    fits: dict[tuple[int, int], ScopedContext[Any]] = {}
    summary: dict[str, Any] = {}
    if train is not None:
        ctx.transfer.remote(len(train.header), role="guest", tag="stepwise.width", index=0)
    total = ctx.params.stepwise_param.max_step + 1
    step = 0
    while True:
        plan = ctx.transfer.get(role="guest", tag=f"stepwise.plan.{step}", index=0)
        recorded = plan.get("record")
        if recorded is not None:
            summary[f"step_{recorded['step']}"] = _follower_record(ctx, fits, recorded, train)
        if "final" in plan:
            _finish(ctx, fits[(int(plan["final"][0]), int(plan["final"][1]))], summary)
            return
        losses: list[float] = []
        for number, keep in enumerate(plan["fits"]):
            scoped = _scoped(ctx, fit_once, step, number, total, train, keep)
            fits[(step, number)] = scoped
            if train is None:
                history = scoped.saved_model["param"].get("loss_history") if scoped.saved_model else None
                if not history:
                    raise DataFormatError(
                        f"{ctx.component}: stepwise model {number} of step {step} has no loss",
                        hint="stepwise needs the loss of every fit (one host)",
                    )
                losses.append(float(history[-1]))
        if train is None:
            ctx.transfer.remote(losses, role="guest", tag=f"stepwise.losses.{step}", index=0)
        step += 1


def _follower_record(
    ctx: ComponentContext[Any],
    fits: dict[tuple[int, int], ScopedContext[Any]],
    recorded: dict[str, Any],
    train: DataTable | None,
) -> dict[str, Any]:
    metas = {
        key: recorded[key] for key in ("host_mask", "guest_mask", "score_name", "number_in", "direction")
    }
    metas.update({key: recorded.get(key) for key in ("n_count", "fit_intercept")})
    if train is None:
        metas.update(loss=recorded.get("loss"), current_ic_val=recorded.get("ic_val"))
        _record(ctx, recorded["step"], metas)
        return {"loss": recorded.get("loss"), "ic_val": recorded.get("ic_val")}
    header = list(train.header)
    mine = [header[i] for i, bit in enumerate(recorded["host_mask"]) if bit]
    fit_id = recorded.get("fit")
    param = fits[tuple(fit_id)].saved_model["param"] if fit_id else {}  # type: ignore[index]
    metas.update(
        all_features=header,
        to_enter=[header[i] for i, bit in enumerate(recorded["host_mask"]) if not bit],
        weight=param.get("weight", {}),
        header=param.get("header", []),
    )
    _record(ctx, recorded["step"], metas)
    return {"guest_features": recorded["guest_features"], "host_features": mine}


class _Guest:
    def __init__(
        self, ctx: ComponentContext[Any], fit_once: Run, criterion: Criterion, logistic: bool
    ) -> None:
        self.ctx = ctx
        self.logistic = logistic
        # Plans are numbered by message, as the followers count them (the final one has no step).
        self.sent = 0
        self.fit_once = fit_once
        self.criterion = criterion
        self.setting = ctx.params.stepwise_param
        self.train = _train(ctx)
        header = list(self.train.header)
        exposure_name = getattr(ctx.params, "exposure_colname", None)
        # Poisson's exposure column is no feature: it stays in every candidate's rows.
        self.exposure = header.index(exposure_name) if exposure_name in header else None
        self.features = [i for i in range(len(header)) if i != self.exposure]
        self.names = [header[i] for i in self.features]
        self.fits: dict[str, ScopedContext[Any]] = {}
        self.summary: dict[str, Any] = {}

    def run(self) -> None:
        ctx, setting = self.ctx, self.setting
        host_width = int(ctx.transfer.get(role="host", tag="stepwise.width", index=0))
        rows = int(self.train.table.count())
        fit_intercept = bool(ctx.params.init_param.fit_intercept)
        search = Search(
            setting,
            host_width=host_width,
            guest_width=len(self.features),
            rows=rows,
            fit_intercept=fit_intercept,
            criterion=self.criterion,
        )
        self.host_anonym = [f"host_{ctx.party_ids('host')[0]}_{i}" for i in range(host_width)]
        self.guest_anonym = [f"guest_{ctx.party_id}_{i}" for i in range(len(self.features))]
        total = setting.max_step + 1
        record: dict[str, Any] | None = None
        while search.step <= setting.max_step:
            step = search.step
            planned = search.plan()
            self._send_plan({"fits": [_kept(h) for h, _ in planned]}, record, count=len(planned))
            record = None
            for number, (_, guest) in enumerate(planned):
                keep = sorted([self.features[i] for i in _kept(guest)] + _listed(self.exposure))
                self.fits[_key_of(search, step, number)] = _scoped(
                    ctx, self.fit_once, step, number, total, self.train, keep
                )
            losses = ctx.transfer.get(role="arbiter", tag=f"stepwise.losses.{step}", index=0)
            for number, loss in enumerate(losses):
                fit = search.scored(_key_of(search, step, number), float(loss))
                ctx.log.info(
                    "stepwise step %d model %d: loss %.6g, %s %.6g",
                    step,
                    number,
                    loss,
                    setting.score_name.upper(),
                    fit.score,
                )
            if search.intercept_only_step:
                record = self._intercept_record(search)
                search.step += 1
                continue
            stop = search.choose()
            if stop:
                break
            record = self._step_record(search, search.fits[search.current])
            search.step += 1
        final = search.final()
        ctx.log.info("stepwise: chose %s (%d features)", final.key, final.key.count("1"))
        self._send_plan({"final": [final.step, final.number]}, record, count=0)
        _finish(ctx, self.fits[final.key], self.summary)

    def _send_plan(self, plan: dict[str, Any], record: dict[str, Any] | None, count: int) -> None:
        tag = f"stepwise.plan.{self.sent}"
        self.sent += 1
        self.ctx.transfer.remote({**plan, "record": record}, role="host", tag=tag, index=0)
        arbiter_plan = {"fits": [None] * count} if "fits" in plan else plan
        self.ctx.transfer.remote({**arbiter_plan, "record": record}, role="arbiter", tag=tag, index=0)

    def _metas(self, search: Search, fit: Fit) -> dict[str, Any]:
        host, guest = from_key(fit.key, search.host_width)
        return {
            "step": search.step,
            "fit": [fit.step, fit.number] if fit.fitted else None,
            "host_mask": [int(b) for b in host],
            "guest_mask": [int(b) for b in guest],
            "score_name": self.setting.score_name.lower(),
            "number_in": int(host.sum() + guest.sum()),
            "direction": self.setting.direction,
            "n_count": search.rows,
            "fit_intercept": search.fit_intercept,
            "loss": fit.loss,
            "ic_val": fit.score,
            "guest_features": [self.guest_anonym[i] for i in _kept(guest)],
            "host_features_anonym": self.host_anonym,
            "guest_features_anonym": self.guest_anonym,
        }

    def _step_record(self, search: Search, fit: Fit) -> dict[str, Any]:
        metas = self._metas(search, fit)
        param = self.fits[fit.key].saved_model["param"]  # type: ignore[index]
        self._log_record(
            search, metas, param.get("intercept"), param.get("weight", {}), param.get("header", [])
        )
        return metas

    def _intercept_record(self, search: Search) -> dict[str, Any]:
        """FATE's forward step 0: the intercept-only model's loss, from the labels alone."""
        fit = search.fits[search.current]
        labels = np.asarray(self.train.table.to_arrow().column(LABEL).to_numpy(), dtype=np.float64)
        intercept, loss = _intercept_only(labels, self.logistic)
        if search.fit_intercept:
            search.scored(fit.key, loss)
        metas = self._metas(search, fit)
        self._log_record(search, metas, intercept, {}, [])
        return metas

    def _log_record(
        self, search: Search, metas: dict[str, Any], intercept: Any, weight: Any, header: Any
    ) -> None:
        host, guest = from_key(search.current, search.host_width)
        shown = {k: v for k, v in metas.items() if k not in ("step", "fit", "guest_features", "ic_val")}
        shown.update(
            current_ic_val=metas["ic_val"],
            all_features=self.names,
            to_enter=[self.names[i] for i in np.nonzero(~guest)[0]],
            intercept=intercept,
            weight=weight,
            header=header,
        )
        _record(self.ctx, search.step, shown)
        self.summary[f"step_{search.step}"] = {
            "guest_features": [self.names[i] for i in _kept(guest)],
            "host_features": [self.host_anonym[i] for i in _kept(host)],
        }


def _kept(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.nonzero(mask)[0]]


def _listed(value: int | None) -> list[int]:
    return [] if value is None else [value]


def _key_of(search: Search, step: int, number: int) -> str:
    return next(f.key for f in search.fits.values() if f.step == step and f.number == number and f.fitted)


def _intercept_only(labels: np.ndarray, logistic: bool) -> tuple[float, float]:
    """The intercept-only model's intercept and loss: the log loss at the mean label (logistic), else
    half the mean squared error around the mean (FATE's value for HeteroLinR and HeteroPoisson)."""
    mean = float(labels.mean()) if len(labels) else 0.0
    if logistic:
        p = min(max(mean, 1e-15), 1 - 1e-15)
        loss = -float(np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))
        return float(np.log(p / (1 - p))), loss
    return mean, float(np.mean((labels - mean) ** 2) / 2)

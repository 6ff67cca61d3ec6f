"""The engine registry and the cores that jobs hold on it.

Cores move between an engine row and a job row only inside one transaction, each side guarded by a
conditional UPDATE, so concurrent schedulers can neither oversubscribe an engine nor lose cores.
Every transaction touches the job row before the engine row, so these updates cannot deadlock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from accord.errors import ArgumentError, RecordNotFound, ResourceInsufficient
from accord.persistence.orm import EngineResourceRow, JobRow
from accord.persistence.records import EngineRecord
from accord.persistence.repositories._base import Excluded, Repository, rowcount, upsert
from accord.persistence.repositories.jobs import job_key, job_not_found
from accord.persistence.repositories.turns import Ahead, waiting_ahead

COMPUTING = "computing"


def _engine_key(engine_type: str, engine_name: str) -> list[ColumnElement[bool]]:
    return [EngineResourceRow.engine_type == engine_type, EngineResourceRow.engine_name == engine_name]


class ResourceRepository(Repository):
    def register_engine(
        self, engine_name: str, total_cores: int, nodes: int, *, engine_type: str = COMPUTING
    ) -> EngineRecord:
        """Create or resize an engine.

        Resizing keeps the cores jobs hold: remaining changes by the same amount as the total, and may
        go negative if the engine shrinks below what is in use, which blocks applications until
        enough is returned.
        """
        if total_cores < 0 or nodes < 1:
            raise ArgumentError(
                f"engine {engine_name} needs total_cores >= 0 and nodes >= 1, "
                f"got {total_cores} cores on {nodes} nodes"
            )
        now = self._clock()
        values: dict[str, Any] = {
            "engine_type": engine_type,
            "engine_name": engine_name,
            "total_cores": total_cores,
            "remaining_cores": total_cores,
            "nodes": nodes,
            "create_time": now,
            "update_time": now,
        }

        def resize(new: Excluded) -> dict[str, Any]:
            return {
                "remaining_cores": EngineResourceRow.remaining_cores
                + new.total_cores
                - EngineResourceRow.total_cores,
                "total_cores": new.total_cores,
                "nodes": new.nodes,
                "update_time": new.update_time,
            }

        with self._db.session_scope() as session:
            upsert(session, EngineResourceRow, values, keys=["engine_type", "engine_name"], set_=resize)
        return self.get_engine(engine_name, engine_type=engine_type)

    def get_engine(self, engine_name: str, *, engine_type: str = COMPUTING) -> EngineRecord:
        with self._db.session_scope() as session:
            row = session.scalars(
                select(EngineResourceRow).where(*_engine_key(engine_type, engine_name))
            ).one_or_none()
            if row is None:
                raise RecordNotFound(
                    f"no {engine_type} engine named {engine_name} is registered",
                    hint="register the engine before applying for its resources",
                    engine_type=engine_type,
                    engine_name=engine_name,
                )
            return _to_record(row)

    def engines(self) -> list[EngineRecord]:
        statement = select(EngineResourceRow).order_by(
            EngineResourceRow.engine_type, EngineResourceRow.engine_name
        )
        with self._db.session_scope() as session:
            return [_to_record(row) for row in session.scalars(statement)]

    def used_cores(self, engine_name: str, *, engine_type: str = COMPUTING) -> int:
        """Cores that jobs currently hold on an engine."""
        statement = select(func.coalesce(func.sum(JobRow.cores), 0)).where(
            JobRow.resource_in_use.is_(True),
            JobRow.engine_type == engine_type,
            JobRow.engine_name == engine_name,
        )
        with self._db.session_scope() as session:
            return int(session.scalar(statement) or 0)

    def holders(self) -> list[tuple[str, str, int]]:
        """(job id, role, party id) of every party's job that holds cores now."""
        statement = (
            select(JobRow.job_id, JobRow.role, JobRow.party_id)
            .where(JobRow.resource_in_use.is_(True))
            .order_by(JobRow.job_id, JobRow.role, JobRow.party_id)
        )
        with self._db.session_scope() as session:
            return [(job_id, role, party_id) for job_id, role, party_id in session.execute(statement)]

    def apply(
        self,
        job_id: str,
        role: str,
        party_id: int,
        engine_name: str,
        cores: int,
        *,
        engine_type: str = COMPUTING,
        raise_if_insufficient: bool = False,
    ) -> bool:
        """Take ``cores`` from the engine for one party's job; True once the job holds resources.

        Idempotent: a job that already holds resources keeps exactly what it holds and True is
        returned, whatever ``cores`` says now. Cores are refused when the engine has too few, or when
        taking them would leave too few for older jobs still waiting here (see
        :mod:`~accord.persistence.repositories.turns`). A refusal takes nothing; it records what was
        asked for and when, the job's ``status_reason`` says why, and False is returned (or
        :class:`~accord.errors.ResourceInsufficient` raised).
        """
        if cores < 0:
            raise ArgumentError(f"cannot apply for a negative number of cores ({cores})")
        now = self._clock()
        claim = (
            update(JobRow)
            .where(*job_key(job_id, role, party_id), JobRow.resource_in_use.is_(False))
            .values(
                resource_in_use=True,
                cores=cores,
                engine_type=engine_type,
                engine_name=engine_name,
                cores_refused_at=None,
                update_time=now,
            )
            .execution_options(synchronize_session=False)
        )
        ahead: Ahead | None = None
        try:
            with self._db.session_scope() as session:
                if rowcount(session, claim) == 0:
                    if session.scalar(select(JobRow.cores).where(*job_key(job_id, role, party_id))) is None:
                        raise job_not_found(job_id, role, party_id)
                    return True
                total = session.scalar(
                    select(EngineResourceRow.total_cores).where(*_engine_key(engine_type, engine_name))
                )
                if total is not None:
                    ahead = waiting_ahead(
                        session, job_id, engine_type, engine_name, now=now, total_cores=total
                    )
                # Checked in the same UPDATE that takes the cores, so concurrent takers cannot both fit.
                left_for_older = cores + (ahead.cores if ahead else 0)
                take = (
                    update(EngineResourceRow)
                    .where(
                        *_engine_key(engine_type, engine_name),
                        EngineResourceRow.remaining_cores >= left_for_older,
                    )
                    .values(remaining_cores=EngineResourceRow.remaining_cores - cores, update_time=now)
                    .execution_options(synchronize_session=False)
                )
                if rowcount(session, take) == 0:
                    # Raising rolls back the claim on the job row above.
                    raise ResourceInsufficient(f"{engine_name} has fewer than {left_for_older} cores left")
        except ResourceInsufficient:
            error = self._refuse(job_id, role, party_id, engine_type, engine_name, cores, ahead)
            if raise_if_insufficient:
                raise error from None
            return False
        return True

    def return_resource(self, job_id: str, role: str, party_id: int) -> bool:
        """Give a job's cores back to the engine it took them from; False if it held none.

        Either way the party gives up its turn for cores: it is no longer waiting for them.
        """
        release = (
            update(JobRow)
            .where(*job_key(job_id, role, party_id), JobRow.resource_in_use.is_(True))
            .values(resource_in_use=False, update_time=self._clock())
            .returning(JobRow.cores, JobRow.engine_type, JobRow.engine_name)
            .execution_options(synchronize_session=False)
        )
        # A holding row has no turn to give up: apply() cleared it in the UPDATE that granted the cores.
        forget_turn = (
            update(JobRow)
            .where(*job_key(job_id, role, party_id), JobRow.cores_refused_at.is_not(None))
            .values(cores_refused_at=None)
            .execution_options(synchronize_session=False)
        )
        with self._db.session_scope() as session:
            held = session.execute(release).one_or_none()
            if held is None:
                # A row another thread claimed meanwhile matches neither UPDATE: look it up before
                # calling it missing.
                if (
                    rowcount(session, forget_turn) == 0
                    and session.scalar(select(JobRow.cores).where(*job_key(job_id, role, party_id))) is None
                ):
                    raise job_not_found(job_id, role, party_id)
                return False
            cores, engine_type, engine_name = held
            # apply() records the engine in the same UPDATE that sets resource_in_use.
            assert engine_type is not None and engine_name is not None
            session.execute(
                update(EngineResourceRow)
                .where(*_engine_key(engine_type, engine_name))
                .values(remaining_cores=EngineResourceRow.remaining_cores + cores, update_time=self._clock())
                .execution_options(synchronize_session=False)
            )
            return True

    def _refuse(
        self,
        job_id: str,
        role: str,
        party_id: int,
        engine_type: str,
        engine_name: str,
        cores: int,
        ahead: Ahead | None,
    ) -> ResourceInsufficient:
        engine = self.get_engine(engine_name, engine_type=engine_type)
        left = f"{engine.remaining_cores} of {engine.total_cores} left on {engine_name}"
        # Behind older jobs only when the cores are there and the turns alone refuse them; reason, hint
        # and details say the same.
        behind = ahead if ahead is not None and engine.remaining_cores >= cores else None
        if behind is not None:
            reason = (
                f"waiting behind older job {behind.oldest_job_id} for {cores} cores on {engine_name}: "
                f"{role} {party_id} would leave fewer than the {behind.cores} older jobs need ({left})"
            )
        else:
            reason = f"resources insufficient on {role} {party_id}: {cores} cores requested, {left}"
        now = self._clock()
        # Only a job still waiting for resources is marked; one that got them meanwhile keeps its own.
        # What it asked for is kept on its row, so younger jobs know how much to leave it.
        with self._db.session_scope() as session:
            session.execute(
                update(JobRow)
                .where(*job_key(job_id, role, party_id), JobRow.resource_in_use.is_(False))
                .values(
                    status_reason=reason,
                    cores=cores,
                    engine_type=engine_type,
                    engine_name=engine_name,
                    cores_refused_at=now,
                    update_time=now,
                )
                .execution_options(synchronize_session=False)
            )
        return ResourceInsufficient(
            reason,
            hint="retry when running jobs have returned their cores"
            if behind is None
            else "retry once the older jobs have their cores",
            job_id=job_id,
            role=role,
            party_id=party_id,
            engine_name=engine_name,
            requested_cores=cores,
            remaining_cores=engine.remaining_cores,
            waiting_behind=behind.oldest_job_id if behind is not None else None,
        )


def _to_record(row: EngineResourceRow) -> EngineRecord:
    return EngineRecord(
        engine_type=row.engine_type,
        engine_name=row.engine_name,
        total_cores=row.total_cores,
        remaining_cores=row.remaining_cores,
        nodes=row.nodes,
        create_time=row.create_time,
        update_time=row.update_time,
    )

"""A throwaway PostgreSQL server for tests, built from the Debian server binaries.

Usage::

    server = PostgresServer()
    server.start()
    url = server.create_database("t1")   # postgresql+psycopg2://postgres@127.0.0.1:<port>/t1
    url = server.fresh_database("t1")    # the same database, emptied (drops and recreates schema public)
    ...
    server.stop()

The cluster lives in a temporary directory and is tuned for speed, not durability (no fsync).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg2
from psycopg2 import sql

from tests.support import free_port

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin; "
    "install them with `apt-get install postgresql`"
)


class PostgresUnavailable(RuntimeError):
    pass


def find_bin_dir(pattern: str = "/usr/lib/postgresql/*/bin") -> Path:
    """The newest installed server's bin directory."""
    candidates = [
        Path(path)
        for path in glob.glob(pattern)
        if (Path(path) / "initdb").exists() and (Path(path) / "pg_ctl").exists()
    ]
    if not candidates:
        raise PostgresUnavailable(INSTALL_HINT)
    return max(candidates, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


class PostgresServer:
    def __init__(self, *, bin_dir: Path | None = None, os_user: str = "postgres") -> None:
        self._bin_dir = bin_dir
        self._os_user = os_user
        self._base: Path | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """URL of the server's ``postgres`` maintenance database."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        if self.port is None:
            raise RuntimeError("the PostgreSQL server is not running")
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        self._bin_dir = self._bin_dir or find_bin_dir()
        self._base = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        try:
            self._start(self._bin_dir, self._base)
        except BaseException:
            self._remove_base()
            raise

    def stop(self) -> None:
        if self._base is None:
            return
        data = self._base / "data"
        try:
            if self._bin_dir is not None and (data / "postmaster.pid").exists():
                self._run([str(self._bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        finally:
            self.port = None
            self._remove_base()

    def create_database(self, name: str) -> str:
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def fresh_database(self, name: str) -> str:
        """An empty database: created on first use, its public schema recreated on every later call.

        Recreating the schema takes a few milliseconds where CREATE DATABASE takes a quarter second.
        """
        if not self._exists(name):
            return self.create_database(name)
        # Sessions left open on the database would block DROP SCHEMA (and may hold stale state).
        self._admin(
            sql.SQL(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = {} AND pid <> pg_backend_pid()"
            ).format(sql.Literal(name))
        )
        self._admin(sql.SQL("DROP SCHEMA public CASCADE; CREATE SCHEMA public"), dbname=name)
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        # FORCE ends sessions a test forgot to close, so teardown never hangs on them.
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- internals ----------------------------------------------------------------------------

    def _start(self, bin_dir: Path, base: Path) -> None:
        data, sockets, log = base / "data", base / "sockets", base / "server.log"
        sockets.mkdir()
        if self._as_other_user:
            # initdb refuses to run as root, so the cluster belongs to the postgres OS user.
            owner = pwd.getpwnam(self._os_user)
            for path in (base, sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        self._run([*initdb, "-E", "UTF8", "--locale=C", "--no-sync"])
        for attempt in range(3):
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]
            try:
                self._run(start)
            except PostgresUnavailable:
                # Another process may have taken the port between probing and binding it.
                if attempt == 2:
                    raise
                continue
            self.port = port
            return

    @property
    def _as_other_user(self) -> bool:
        return os.geteuid() == 0

    def _run(self, command: list[str]) -> None:
        if self._as_other_user:
            command = ["runuser", "-u", self._os_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            log = self._base / "server.log" if self._base else None
            log_text = log.read_text(errors="replace") if log and log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(command)} failed with exit code {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}\n{log_text}"
            )

    def _exists(self, name: str) -> bool:
        query = sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(sql.Literal(name))
        return bool(self._admin(query))

    def _admin(self, statement: sql.Composable, *, dbname: str = "postgres") -> list[tuple[object, ...]]:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(statement)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()

    def _remove_base(self) -> None:
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

"""Throwaway services the sandbox and the tests start on loopback: PostgreSQL.

`make demo` and the benchmark need a PostgreSQL for LiteLLM's spend logs as much
as the tests do, so the starter lives here and `tests/services/` imports it.

Uses the Debian packages' binaries (`apt-get install postgresql`): `initdb` into a
temporary folder, `pg_ctl start` on 127.0.0.1 with a free port and a unix socket in
that folder, durability switched off because the data dies with the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo


class ServiceError(RuntimeError):
    """A test service could not be installed, started or stopped."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def service_user(name: str) -> str | None:
    """The OS user to run a service as: `name` when we are root, else None (ourselves).

    PostgreSQL refuses to start as root, so root must hand the cluster to another user.
    """
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError as exc:
        raise ServiceError(
            f"running as root but the OS user {name!r} does not exist; "
            "install the Debian package that creates it (see .ci/run)"
        ) from exc
    return name


def as_user(user: str | None, argv: Sequence[str]) -> list[str]:
    if user is None:
        return list(argv)
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServiceError("running as root and `runuser` (util-linux) is not installed")
    return [runuser, "-u", user, "--", *argv]


def chown_tree(path: Path, user: str | None) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def run(argv: Sequence[str], *, what: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a command to completion; on failure raise ServiceError with its output."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise ServiceError(
            f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    return proc


SUPERUSER = "postgres"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found under "
    "/usr/lib/postgresql/*/bin or on PATH. Install them as CI does: run `.ci/run`, "
    "or `apt-get install -y --no-install-recommends postgresql`."
)

# The cluster holds test data only: trade every durability guarantee for speed.
FAST_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "shared_buffers": "256MB",
    "max_connections": "50",
    "timezone": "UTC",
    "log_timezone": "UTC",
}


def find_pg_bin() -> Path:
    """The bin folder of the newest PostgreSQL server installed, or ServiceError."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for folder in candidates:
        if all(os.access(Path(folder, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    raise ServiceError(INSTALL_HINT)


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster on host:port (TCP, scram-sha-256 passwords)."""

    host: str
    port: int
    socket_dir: Path
    data_dir: Path
    superuser_password: str = field(repr=False)

    def dsn(
        self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None
    ) -> str:
        """A libpq connection string; TCP connections need the role's password."""
        if user == SUPERUSER and password is None:
            password = self.superuser_password
        params: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "dbname": dbname,
            "user": user,
        }
        if password is not None:
            params["password"] = password
        return make_conninfo("", **params)

    @property
    def superuser_dsn(self) -> str:
        return self.dsn()

    def create_role(self, name: str, password: str | None = None, *, login: bool = True) -> None:
        options: sql.Composable = sql.SQL("LOGIN" if login else "NOLOGIN")
        if password is not None:
            options += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
        with psycopg.connect(self.superuser_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} ").format(sql.Identifier(name)) + options)

    def create_database(self, name: str, owner: str | None = None) -> str:
        """Create database `name` (owned by `owner` if given) and return its superuser DSN."""
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner is not None:
            stmt += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        with psycopg.connect(self.superuser_dsn, autocommit=True) as conn:
            conn.execute(stmt)
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        stmt = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with psycopg.connect(self.superuser_dsn, autocommit=True) as conn:
            conn.execute(stmt)


def _start(pg_bin: Path, data_dir: Path, socket_dir: Path, log: Path, user: str | None) -> int:
    """Start the cluster on a free port; retry when another process takes the port first."""
    last_error: ServiceError | None = None
    for _ in range(3):
        port = free_port()
        options = f"-p {port} -k {socket_dir}"
        argv = [
            str(pg_bin / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(data_dir),
            "-l",
            str(log),
            "-o",
            options,
        ]
        try:
            run(as_user(user, argv), what="pg_ctl start")
            return port
        except ServiceError as exc:
            last_error = ServiceError(f"{exc}\n--- server log ---\n{tail(log)}")
    assert last_error is not None
    raise last_error


def _stop(pg_bin: Path, data_dir: Path, user: str | None) -> None:
    def stop(mode: str) -> None:
        argv = [str(pg_bin / "pg_ctl"), "stop", "-w", "-t", "60", "-m", mode, "-D", str(data_dir)]
        run(as_user(user, argv), what=f"pg_ctl stop -m {mode}")

    try:
        stop("fast")
    except ServiceError:
        stop("immediate")


@contextlib.contextmanager
def running_postgres(base_dir: str | os.PathLike | None = None) -> Iterator[PostgresServer]:
    """Init, start, yield, then stop and delete a PostgreSQL cluster.

    `base_dir` must be reachable by the `postgres` OS user when running as root;
    the default is a fresh folder under the system temp dir.
    """
    pg_bin = find_pg_bin()
    user = service_user(SUPERUSER)
    root = Path(tempfile.mkdtemp(prefix="costbridge-pg-", dir=base_dir))
    data_dir, socket_dir, log = root / "data", root / "sock", root / "server.log"
    socket_dir.mkdir()
    # Password auth on TCP as in production, so a wrong or missing password fails.
    password = secrets.token_urlsafe(16)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    chown_tree(root, user)
    started = False
    try:
        run(
            as_user(
                user,
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            ),
            what=f"initdb (as {user or 'current user'}) in {root}",
        )
        pwfile.unlink()
        with open(data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# costbridge test cluster\n")
            conf.writelines(f"{k} = '{v}'\n" for k, v in FAST_SETTINGS.items())
        port = _start(pg_bin, data_dir, socket_dir, log, user)
        started = True
        yield PostgresServer(
            host="127.0.0.1",
            port=port,
            socket_dir=socket_dir,
            data_dir=data_dir,
            superuser_password=password,
        )
    finally:
        if started:
            _stop(pg_bin, data_dir, user)
        shutil.rmtree(root, ignore_errors=True)

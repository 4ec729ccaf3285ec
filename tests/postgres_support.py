"""A throwaway PostgreSQL server for tests, from Debian's `postgresql` package (.ci/postgres.sh).

`throwaway_postgres()` runs initdb and pg_ctl from /usr/lib/postgresql/<version>/bin in a fresh
temp folder, listening on 127.0.0.1 only (trust authentication, so no password) on a free port,
and stops and removes it afterwards. PostgreSQL refuses to run as root: under root the server
runs as the `postgres` user (runuser) in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (install Debian's `postgresql`: .ci/postgres.sh)."""


def server_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and postgres."""
    found = sorted((Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    found = [b for b in found if (b / "pg_ctl").is_file() and (b / "postgres").is_file()]
    if not found:
        raise PostgresUnavailable("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
                                  "(run .ci/postgres.sh)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres(user: str = "postgres"):
    """Start a server; yield its base URL ``postgresql://postgres@127.0.0.1:<port>``; stop it.

    Create databases in it with `create_database(base_url, name)`.
    """
    bindir = server_bin()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", user, "--"] if as_root else []
    home = Path(tempfile.mkdtemp(prefix="mnist-pg-"))
    data, sockets, log = home / "data", home / "sock", home / "server.log"
    sockets.mkdir()
    if as_root:
        shutil.chown(home, user)
        shutil.chown(sockets, user)
    port = _free_port()

    def run(*cmd):
        result = subprocess.run([*run_as, *map(str, cmd)], capture_output=True, text=True, timeout=60)
        if result.returncode:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"{Path(str(cmd[0])).name} failed ({result.returncode}): {' | '.join(tail)}")

    try:
        run(bindir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        run(bindir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "30", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}"
        finally:
            run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    """CREATE DATABASE name in the server at base_url; returns the new database's URL."""
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"

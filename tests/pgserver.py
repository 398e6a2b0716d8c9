"""A throw-away PostgreSQL server for the tests (conftest's ``pg_server`` fixture): initdb into a
temporary folder, a Unix socket in it and no TCP port, durability off (fsync, synchronous commit,
full page writes: nothing here outlives the session), stopped at the end of the session.

pg_ctl refuses to run as root: as root, the server runs as the ``postgres`` user (runuser), in a
folder that user owns. Where PostgreSQL's binaries or psycopg are missing, :func:`why_not` says
so, and the PostgreSQL tests skip with that reason (CI installs Debian's postgresql: .ci/run).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode

SUPERUSER = "postgres"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: pg_config's bindir, else Debian's newest, else PATH's."""
    candidates = []
    if shutil.which("pg_config"):
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if done.returncode == 0:
            candidates.append(done.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def why_not() -> str | None:
    """Why the PostgreSQL tests cannot run here, None when they can."""
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        return f"psycopg is not installed ({e}); pip install 'launchtier[postgres]'"
    if bindir() is None:
        return "PostgreSQL's server binaries (initdb, pg_ctl) are not installed; apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run pg_ctl as"
    return None


class Server:
    """A running throw-away server: ``url(db, chain)`` locates a chain of one of its databases."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="launchtier-pg-"))
        self.data = self.root / "data"
        self.socket = str(self.root)
        self.bin = bindir()
        self._databases = 0
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o755)

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", "postgres", "--"] if self.as_root else []) + list(args)

    def start(self) -> None:
        subprocess.run(self._cmd(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
                       check=True, capture_output=True, cwd=self.root)
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        done = subprocess.run(self._cmd(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                                        "-o", options, "-w", "-t", "60", "start"),
                              capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            raise RuntimeError(f"the test PostgreSQL server did not start: {done.stdout}{done.stderr}{log}")

    def stop(self) -> None:
        subprocess.run(self._cmd(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
                       capture_output=True, cwd=self.root)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", chain: str | None = "main", user: str = SUPERUSER) -> str:
        query = [("host", self.socket)] + ([("chain", chain)] if chain is not None else [])
        return f"postgresql://{user}@/{database}?{urlencode(query, safe='/')}"

    def conninfo(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return self.url(database, chain=None, user=user)

    def new_database(self) -> str:
        """A new empty database's name."""
        import psycopg

        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def execute(self, database: str, *statements: str, user: str = SUPERUSER) -> list:
        """Run ``statements`` in ``database`` (one transaction); the rows of the last."""
        import psycopg

        with psycopg.connect(self.conninfo(database, user), autocommit=False) as conn:
            rows = []
            for s in statements:
                cur = conn.execute(s)
                rows = cur.fetchall() if cur.description else []
            return rows

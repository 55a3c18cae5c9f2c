"""A single-node Slurm on this machine, for the tests: munged, slurmctld and slurmd on loopback.

Everything lives in one temporary folder (munge key and socket, slurm.conf, state, spool, logs);
the daemons run in the foreground as children of the test and are stopped (and the folder
removed) when the `with` block ends, also when the test fails. Clients find this cluster through
`SLURM_CONF` (in `env`). Needs Debian's `slurmctld slurmd slurm-client munge` (`.ci/run` installs
them). Ports are free ones picked at start, so two such clusters can run side by side. Root is not
needed: every daemon runs as the user running the tests (checked as `nobody`: munged, slurmctld,
slurmd and an `srun` job step all ran).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")


def missing_programs() -> list[str]:
    paths = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [p for p in DAEMONS if shutil.which(p, path=paths) is None]


def _which(name: str) -> str:
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])) or name


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class SlurmError(RuntimeError):
    pass


class LocalSlurm:
    """`with LocalSlurm() as slurm:` a running one-node cluster; `slurm.env` for its clients."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.root = Path(tempfile.mkdtemp(prefix="scsim-slurm-"))
        self.root.chmod(0o755)  # munged wants its socket's folders searchable by all
        self.conf = self.root / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))
        for k in [k for k in self.env if k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")) and k != "SLURM_CONF"]:
            del self.env[k]  # a test run inside a Slurm job must not leak that job's settings

    # ---- start ---------------------------------------------------------------------------------
    def __enter__(self) -> LocalSlurm:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, name: str, cmd: list[str]) -> None:
        with open(self.root / "log" / f"{name}.out", "wb") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.root, start_new_session=True
            )
        self.procs.append((name, proc))

    def _start(self) -> None:
        r = self.root
        for d in ("munge", "state", "spool", "log"):
            (r / d).mkdir()
            (r / d).chmod(0o755)
        key, sock = r / "munge" / "munge.key", r / "munge" / "munge.socket"
        subprocess.run([_which("mungekey"), "--create", "--keyfile", str(key)], check=True, capture_output=True)
        key.chmod(0o600)
        self._spawn(
            "munged",
            [
                _which("munged"),
                "--foreground",
                "--force",
                f"--socket={sock}",
                f"--key-file={key}",
                f"--pid-file={r / 'munge' / 'munged.pid'}",
                f"--seed-file={r / 'munge' / 'munged.seed'}",
                f"--log-file={r / 'log' / 'munged.log'}",
            ],
        )
        self._wait(lambda: sock.exists(), "munged to create its socket")

        node = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout
        hw = next(line for line in node.splitlines() if line.startswith("NodeName="))
        hw = " ".join(w for w in hw.split()[1:] if not w.startswith("UpTime"))  # CPUs=.. Boards=.. RealMemory=..
        ctld_port, d_port = _free_ports(2)
        user = getpass.getuser()
        self.conf.write_text(f"""\
ClusterName=scsimtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={sock}
StateSaveLocation={r / "state"}
SlurmdSpoolDir={r / "spool"}
SlurmctldPidFile={r / "slurmctld.pid"}
SlurmdPidFile={r / "slurmd.pid"}
SlurmctldLogFile={r / "log" / "slurmctld.log"}
SlurmdLogFile={r / "log" / "slurmd.log"}
PlugStackConfig=/dev/null
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
DependencyParameters=kill_invalid_depend
ReturnToService=2
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 {hw} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", [_which("slurmd"), "-D", "-N", "localhost", "-f", str(self.conf)])

        def idle() -> bool:
            p = self.run("sinfo", "-h", "-o", "%t", check=False)
            return p.returncode == 0 and p.stdout.strip() in ("idle", "mix")

        self._wait(idle, "the node to come up idle in sinfo")

    def _wait(self, ok, what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not ok():
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise SlurmError(f"{name} exited ({proc.returncode}) while waiting for {what}\n{self.logs()}")
            if time.monotonic() > deadline:
                raise SlurmError(f"timed out after {self.timeout:.0f} s waiting for {what}\n{self.logs()}")
            time.sleep(0.2)

    # ---- use -----------------------------------------------------------------------------------
    def run(
        self, *cmd: str, check: bool = True, env: dict | None = None, cwd: str | Path | None = None
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [_which(cmd[0]), *cmd[1:]], capture_output=True, text=True, env=env or self.env, cwd=cwd, timeout=60
        )
        if check and proc.returncode != 0:
            raise SlurmError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}\n{self.logs()}")
        return proc

    def wait_all(self, timeout: float) -> None:
        """Until the queue is empty; fails at once on a job whose dependency can never be met."""
        deadline = time.monotonic() + timeout
        while True:
            q = self.run("squeue", "-h", "-o", "%i %T %r").stdout.strip()
            if not q:
                return
            if "DependencyNeverSatisfied" in q:
                raise SlurmError(f"a job's dependency can never be met:\n{q}\n{self.logs()}")
            if time.monotonic() > deadline:
                raise SlurmError(f"jobs still queued after {timeout:.0f} s:\n{q}\n{self.logs()}")
            time.sleep(0.5)

    def job(self, job_id: str) -> list[dict[str, str]]:
        """`scontrol show job` of a job (one record per array task), as key=value dicts."""
        out = self.run("scontrol", "-o", "show", "job", job_id).stdout
        recs = []
        for line in out.strip().splitlines():
            rec = {}
            for word in line.split():
                if "=" in word:
                    k, v = word.split("=", 1)
                    rec[k] = v
            recs.append(rec)
        return recs

    def logs(self, lines: int = 15) -> str:
        parts = []
        for f in sorted((self.root / "log").glob("*")):
            try:
                tail = f.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            parts.append(f"--- {f.name} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    # ---- stop ----------------------------------------------------------------------------------
    def stop(self) -> None:
        if any(name == "slurmctld" and p.poll() is None for name, p in self.procs):
            try:  # jobs first, so that slurmd takes its steps down
                self.run("scancel", "--full", "--user", getpass.getuser(), check=False)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and self.run("squeue", "-h", check=False).stdout.strip():
                    time.sleep(0.3)
            except Exception:  # noqa: BLE001 - stopping goes on regardless
                pass
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        self.procs.clear()
        shutil.rmtree(self.root, ignore_errors=True)

"""The local Ray that ``launcher=ray`` starts: reachable from this machine only, and gone (processes
and temporary files) once the sweep ends, however it ends."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")
pytest.importorskip("ray")

from experiments.engine.runner import local_ray  # noqa: E402
from tests.conftest import REPO  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads the process table")


def _is_loopback(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _bound_sockets(pids: set[int]) -> list[tuple[int, str, str, int]]:
    """(pid, process name, address, port) of every listening TCP socket and bound UDP socket."""
    out = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.pid not in pids or not conn.laddr:
            continue
        if conn.status == psutil.CONN_LISTEN or (conn.type == 2 and not conn.raddr):  # SOCK_DGRAM
            try:
                name = psutil.Process(conn.pid).name()
            except psutil.Error:
                name = "?"
            out.append((conn.pid, name, conn.laddr.ip, conn.laddr.port))
    return out


def test_the_local_ray_listens_on_loopback_only(tmp_path):
    short = Path("/tmp") / f"rayloop-{tmp_path.name[-8:]}"  # Ray's socket paths must stay short
    me = psutil.Process()
    try:
        with local_ray(short, 1):
            import ray

            ray.get(ray.remote(lambda: 1).remote())  # a worker, with its own server, is up
            time.sleep(1)
            pids = {me.pid} | {p.pid for p in me.children(recursive=True)}
            sockets = _bound_sockets(pids)
    except Exception as exc:  # noqa: BLE001 - no Ray on this machine: nothing to check
        if "sockets" not in locals():
            pytest.skip(f"ray cannot start here: {exc}")
        raise
    finally:
        shutil.rmtree(short, ignore_errors=True)
    names = {name for _, name, _, _ in sockets}
    assert sockets and names & {"gcs_server", "raylet"}, sockets
    exposed = [s for s in sockets if not _is_loopback(s[2])]
    assert exposed == [], exposed




def test_sigterm_stops_a_ray_comparison_with_the_resume_line_and_no_ray_left():
    """Stopped half-way: exit 143, the one-line stop message, Ray's processes and folder gone."""
    out = Path(tempfile.mkdtemp(prefix="rk-"))  # short: Ray's files go below it, as for users
    cmd = [sys.executable, "-m", "experiments.compare", "population=small", "n_citizens=5000", "steps=24",
           "seeds=10", "scenarios=[baseline,training]", "launcher=ray", "n_jobs=2", "progress=false",
           f"hydra.run.dir={out}"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 180
        while not list(out.glob("runs/*/summary.json")) and time.time() < deadline:
            if proc.poll() is not None:
                _, stderr = proc.communicate()
                pytest.skip(f"the comparison ended before it could be stopped: {stderr[-300:]}")
            time.sleep(0.1)
        ray_procs = psutil.Process(proc.pid).children(recursive=True)
        assert ray_procs, "no Ray processes below the comparison"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        _, alive = psutil.wait_procs(ray_procs, timeout=5)
        assert proc.returncode == 143, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in stderr, stderr
        assert "stopped by SIGTERM" in lines[0] and "resume" in lines[0]
        assert not (out / ".ray").exists()
        assert [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(out, ignore_errors=True)

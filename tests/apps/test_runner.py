"""The runner: identical bytes on every launcher, resume, reuse of complete runs only, provenance,
atomic files, and a clean stop.

Runs are tiny (a few hundred citizens, a few months) except in the kill-and-resume test, whose runs
must last long enough to be stopped half-way.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from experiments.compare import app as compare
from experiments.engine.runner import (
    DATASET_DIR,
    RUNS_DIR,
    FolderRefused,
    Interrupted,
    RunnerError,
    Task,
    run_configs,
    run_problem,
    stop_on_signals,
)
from experiments.engine.settings import CompareConfig
from sim.config import SimConfig, compose
from sim.store.files import SUMMARY_FILE, TIMESERIES_FILE, atomic_write
from sim.store.provenance import config_hash
from tests.conftest import REPO

TABLES = ("runs.parquet", "run_summaries.csv", "scenario_summary.csv")


def tiny(policy: str = "training", seeds: range = range(3), steps: int = 3, **extra) -> list[SimConfig]:
    """Short runs whose policy acts from month 0 (policy.start_date null: no history before it)."""
    base = compose(policy=policy, population="small", overrides={
        "steps": steps, "population.n_citizens": 300, "policy.start_date": None, **extra})
    return [replace(base, seed=s, progress=False) for s in seeds]


def digest(folder: Path) -> dict[str, str]:
    """Checksum of every result file below ``folder`` (Ray's temporary files and Hydra's left out)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not {".ray", ".hydra"} & set(p.relative_to(folder).parts)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[list[SimConfig], Path]:
    """Three seeds of two scenarios, run one after another in this process."""
    configs = tiny("training") + tiny("baseline")
    out = tmp_path_factory.mktemp("basic")
    run_configs(configs, out, launcher="basic", progress=False)
    return configs, out


def test_joblib_gives_the_same_bytes_as_basic(reference, tmp_path):
    configs, basic = reference
    records = run_configs(configs, tmp_path, launcher="joblib", n_jobs=2, progress=False)
    assert digest(tmp_path) == digest(basic)
    assert [r.directory.parent for r in records] == [tmp_path / RUNS_DIR] * len(configs)


def test_each_run_records_its_config_and_provenance(reference):
    configs, out = reference
    for cfg in configs:
        folder = out / RUNS_DIR / Task(cfg, config_hash(cfg)).name
        summary = json.loads((folder / SUMMARY_FILE).read_text())
        assert summary["config_hash"] == config_hash(cfg)
        assert summary["code_version"].startswith(("git:", "sim-digital-services-id"))
        assert {"python_version", "numpy_version", "mesa_version"} <= set(summary)
        assert summary["seed"] == cfg.seed and summary["months"] == cfg.steps
        assert (folder / "config.json").is_file()
        assert folder.name.startswith(f"{cfg.policy.name}_seed{cfg.seed}_")


def test_the_timeseries_dataset_holds_every_run_once(reference):
    configs, out = reference
    data = pd.read_parquet(out / DATASET_DIR)
    assert data.groupby(["policy", "seed", "run"], observed=True).size().tolist() == [4] * 6
    assert set(data["run"]) == {config_hash(c)[:12] for c in configs}
    for cfg in configs:  # the run folder's file is the dataset's part
        task = Task(cfg, config_hash(cfg))
        assert (out / RUNS_DIR / task.name / TIMESERIES_FILE).read_bytes() == (out / task.part).read_bytes()


def test_hash_ignores_only_result_neutral_settings():
    cfg = tiny(seeds=range(1))[0]
    assert config_hash(replace(cfg, progress=True, materialise_agents="always")) == config_hash(cfg)
    assert config_hash(replace(cfg, steps=4)) != config_hash(cfg)
    assert config_hash(replace(cfg, seed=7)) != config_hash(cfg)


def test_resume_keeps_finished_runs_and_does_the_rest(reference, tmp_path):
    configs, basic = reference
    run_configs(configs[:2], tmp_path, launcher="basic", progress=False)
    kept = {p: p.stat().st_mtime_ns for p in (tmp_path / RUNS_DIR).glob(f"*/{SUMMARY_FILE}")}
    # an interrupted run: its files but no summary
    half = tmp_path / RUNS_DIR / Task(configs[2], config_hash(configs[2])).name
    half.mkdir()
    (half / TIMESERIES_FILE).write_bytes(b"torn")
    assert run_problem(tmp_path, Task(configs[2], config_hash(configs[2]))).startswith("unfinished")
    run_configs(configs + configs[:1], tmp_path, launcher="basic", progress=False)  # a repeat is one run
    assert digest(tmp_path) == digest(basic)
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())


def _copy(src: Path, dst: Path) -> None:
    for rel in digest(src):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        (dst / rel).write_bytes((src / rel).read_bytes())


@pytest.mark.parametrize("damage", ["summary deleted", "summary edited", "no metrics", "timeseries edited",
                                    "other steps", "other seed count"])
def test_reuse_accepts_only_complete_runs_of_the_same_config(reference, tmp_path, damage):
    configs, basic = reference
    _copy(basic, tmp_path)
    first = tmp_path / RUNS_DIR / Task(configs[0], config_hash(configs[0])).name
    expected = configs
    if damage == "summary deleted":
        (first / SUMMARY_FILE).unlink()
    elif damage == "summary edited":
        text = json.loads((first / SUMMARY_FILE).read_text())
        text["adoption_final"] = 7.5
        (first / SUMMARY_FILE).write_text(json.dumps(text))
    elif damage == "no metrics":
        (first / SUMMARY_FILE).write_text("{}")
    elif damage == "timeseries edited":
        (first / TIMESERIES_FILE).write_bytes((first / TIMESERIES_FILE).read_bytes()[:-10])
    elif damage == "other steps":
        expected = [replace(c, steps=5) for c in configs]
    else:
        expected = tiny("training", seeds=range(4)) + tiny("baseline")
    with pytest.raises(RunnerError) as info:
        run_configs(expected, tmp_path, reuse=True, progress=False)
    message = str(info.value)
    assert message.startswith("reuse=true") and "\n" not in message
    assert "_seed" in message  # names the run
    if damage == "other steps":
        assert "steps: 3 there, 5 here" in message


def test_reuse_of_complete_runs_runs_nothing(reference, tmp_path):
    configs, basic = reference
    _copy(basic, tmp_path)
    before = digest(tmp_path)
    assert len(run_configs(configs, tmp_path, reuse=True, progress=False)) == len(configs)
    assert digest(tmp_path) == before


def test_bad_launcher_settings_give_one_line(reference, tmp_path):
    configs, _ = reference
    for kwargs in ({"launcher": "spark"}, {"n_jobs": 0}):
        with pytest.raises(ValueError, match=r"^(launcher|n_jobs)="):
            run_configs(configs, tmp_path, progress=False, **kwargs)
    with pytest.raises(TypeError, match="SimConfig"):
        run_configs([{"seed": 1}], tmp_path, progress=False)
    assert not any(tmp_path.iterdir())


def test_atomic_writes_from_many_threads_leave_one_whole_file(tmp_path):
    target = tmp_path / "table.csv"
    payloads = [(str(i) * 100_000).encode() for i in range(8)]
    threads = [threading.Thread(target=atomic_write, args=(target, p)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary file left


def test_a_signal_stops_the_runs_with_how_many_finished(tmp_path, monkeypatch):
    configs = tiny("baseline", seeds=range(100), steps=12)
    import experiments.engine.runner as runner

    write = runner._write
    written: list[int] = []

    def write_then_signal(*args, **kwargs) -> None:
        """The signal arrives once three runs are written, however fast or slow the machine."""
        write(*args, **kwargs)
        written.append(1)
        if len(written) == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(runner, "_write", write_then_signal)
    # the runner's handlers, installed before the signal can arrive
    with stop_on_signals(), pytest.raises(Interrupted) as info:
        run_configs(configs, tmp_path, launcher="basic", progress=False)
    assert info.value.exit_code == 143
    assert info.value.finished < info.value.total == 100
    assert f"to resume, run the same command again with hydra.run.dir={tmp_path}" in str(info.value)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert len(list(tmp_path.glob(f"{RUNS_DIR}/*/{SUMMARY_FILE}"))) == info.value.finished


# --------------------------------------------------------------------------- the app, stopped and resumed
KILL_ARGS = ["population=small", "n_citizens=10000", "steps=24", "seeds=6", "scenarios=[baseline,training]",
             "n_jobs=2", "progress=false", "p_best_precision=null", "province_min_share=null"]


def _live_members(pgid: int) -> list[int]:
    """Processes of a process group that are still alive (zombies do not count)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_sigterm_stops_every_worker_and_a_rerun_resumes_to_the_same_tables(tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "experiments.compare", *KILL_ARGS, f"hydra.run.dir={out}"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 240
    while len(list(out.glob(f"{RUNS_DIR}/*/{SUMMARY_FILE}"))) < 2 and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    stopped = time.time()
    _, stderr = proc.communicate(timeout=60)
    assert time.time() - stopped < 15
    assert proc.returncode == 143, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "of 12 runs finished" in lines[0]
    assert f"run the same command again with hydra.run.dir={out}" in lines[0]
    finished = {p: p.stat().st_mtime_ns for p in out.glob(f"{RUNS_DIR}/*/{SUMMARY_FILE}")}
    assert 2 <= len(finished) < 12
    for _ in range(100):
        if not _live_members(proc.pid):
            break
        time.sleep(0.1)
    assert _live_members(proc.pid) == []  # no orphan workers

    resumed = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())  # kept, not redone
    assert len(list(out.glob(f"{RUNS_DIR}/*/{SUMMARY_FILE}"))) == 12
    assert len(list(out.glob(f"{DATASET_DIR}/*/*/*/{TIMESERIES_FILE}"))) == 12

    whole = tmp_path / "whole"
    cfg = CompareConfig(population="small", n_citizens=10000, steps=24, seeds=6,
                        scenarios=["baseline", "training"], launcher="basic", progress=False)
    compare.run_compare(cfg, whole)
    for name in TABLES:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    assert {k: v for k, v in digest(out).items() if k.startswith(("runs/", "timeseries/"))} == {
        k: v for k, v in digest(whole).items() if k.startswith(("runs/", "timeseries/"))}
    assert not pd.read_parquet(out / "runs.parquet").duplicated(["scenario", "seed", "month"]).any()


# --------------------------------------------------------------------------- Ray
def _processes_mentioning(text: str) -> list[int]:
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                out.append(int(cmdline.parent.name))
        except OSError:
            continue
    return out


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_tiny_comparison_on_a_local_ray_matches_joblib_byte_for_byte(tmp_path):
    """Ray started for the comparison on 127.0.0.1 (temporary files in the output folder), then shut
    down: the same files, byte for byte, as on joblib."""
    import ray

    cfg = CompareConfig(population="small", n_citizens=300, steps=3, seeds=2,
                        scenarios=["baseline", "training"], progress=False, n_jobs=2)
    compare.run_compare(replace(cfg, launcher="joblib"), tmp_path / "joblib")
    short = Path(tempfile.mkdtemp(prefix="ray-test-"))  # Ray's socket paths must stay short
    try:
        compare.run_compare(replace(cfg, launcher="ray"), short)
        assert not ray.is_initialized()
        for _ in range(100):
            if not _processes_mentioning(str(short)):
                break
            time.sleep(0.1)
        assert _processes_mentioning(str(short)) == []  # Ray's processes are gone
        for name in TABLES:
            assert (short / name).read_bytes() == (tmp_path / "joblib" / name).read_bytes(), name
        ours = {k: v for k, v in digest(short).items() if k.startswith(("runs/", "timeseries/"))}
        assert ours and ours == {k: v for k, v in digest(tmp_path / "joblib").items()
                                 if k.startswith(("runs/", "timeseries/"))}
    finally:
        import shutil

        shutil.rmtree(short, ignore_errors=True)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_killed_worker_pool_ends_in_one_line_with_the_resume_hint(tmp_path):
    """Workers and resource trackers killed with SIGKILL: exit 1 and one line, no tracebacks (of this
    process or of the trackers relaunched for the cleanup)."""
    import psutil

    out = tmp_path / "broken"
    cmd = [sys.executable, "-m", "experiments.compare", "population=small", "n_citizens=5000", "steps=24",
           "seeds=10", "scenarios=[baseline,training]", "n_jobs=2", "progress=false", "p_best_precision=null",
           f"hydra.run.dir={out}"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 240
        while not list(out.glob(f"{RUNS_DIR}/*/{SUMMARY_FILE}")) and time.time() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        pool = psutil.Process(proc.pid).children()
        assert len(pool) >= 3  # two workers and the resource trackers
        for child in pool:
            child.kill()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr and "KeyError" not in stderr, stderr
    assert "of 20 runs finished in" in lines[0] and "rerun the same command to resume" in lines[0]


@pytest.mark.parametrize("stray", ["junk.txt", "policy=baseline/seed=0/run=000000000000/timeseries.parquet"])
def test_a_stray_file_in_the_dataset_is_refused_on_reuse_and_on_resume(tmp_path, stray):
    """``read_parquet(<out>/timeseries)`` reads every file there: one stray file breaks it, so neither
    reuse nor resume may pass over one (temporary, dot-named files are skipped, as readers skip them)."""
    configs = tiny("baseline", seeds=range(1), steps=2)
    run_configs(configs, tmp_path, launcher="basic", progress=False)
    (tmp_path / DATASET_DIR / ".writing.parquet").write_bytes(b"partial")
    assert len(run_configs(configs, tmp_path, reuse=True, progress=False)) == 1
    path = tmp_path / DATASET_DIR / stray
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage")
    for reuse in (True, False):
        with pytest.raises(FolderRefused, match=r"not a part of any run.*allowed: only the runs' parts"):
            run_configs(configs, tmp_path, reuse=reuse, launcher="basic", progress=False)
    path.unlink()
    run_configs(configs, tmp_path, reuse=True, progress=False)
    assert len(pd.read_parquet(tmp_path / DATASET_DIR)) == 3

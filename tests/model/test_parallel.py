"""A run on two threads gives the same numbers, bit for bit, as on one (sim.parallel)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import sparse

import sim.parallel as parallel
from sim.model import DigitalAdoptionModel
from sim.store.files import parquet_bytes


def test_row_parts_cover_every_row_and_give_the_same_product_bit_for_bit():
    adjacency = DigitalAdoptionModel(n_citizens=5_000, steps=61, seed=2).state.adjacency
    x = np.random.default_rng(0).random(adjacency.shape[0]).astype(np.float32)
    for threads in (2, 3, 5):
        parts = parallel.row_parts(adjacency, threads=threads)
        assert parts is None or sum(p.shape[0] for p in parts) == adjacency.shape[0]
        got = parallel.product(adjacency, parts, x)
        assert got.dtype == np.float32 and np.array_equal(got, adjacency @ x)


def test_parts_share_the_matrix_arrays_and_are_none_when_the_split_cannot_pay():
    adjacency = sparse.random_array((1_000, 1_000), density=0.01, format="csr", dtype=np.float32, rng=1)
    assert parallel.row_parts(adjacency, threads=1) is None
    assert parallel.row_parts(adjacency, threads=2) is None  # 10,000 ties: below MIN_TIES_PER_PART
    big = sparse.random_array((20_000, 20_000), density=0.002, format="csr", dtype=np.float32, rng=1)
    parts = parallel.row_parts(big, threads=2)
    assert parts is not None and len(parts) == 2
    assert np.shares_memory(parts[1].indices, big.indices) and np.shares_memory(parts[1].data, big.data)


def test_run_threads_follows_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert parallel.run_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert parallel.run_threads() >= 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert parallel.run_threads() >= 1


def test_background_work_runs_on_another_thread_only_when_asked(monkeypatch):
    monkeypatch.setattr(parallel, "run_threads", lambda: 2)
    here = threading.get_ident()
    assert parallel.in_background(10, threading.get_ident).result() == here  # small: in this thread
    assert parallel.in_background(10**7, threading.get_ident).result() != here
    monkeypatch.setattr(parallel, "run_threads", lambda: 1)
    assert parallel.in_background(10**7, threading.get_ident).result() == here


def _outputs(**kwargs) -> tuple[bytes, list[float]]:
    model = DigitalAdoptionModel(n_citizens=1_500, steps=66, seed=11, **kwargs).run(progress=False)
    return parquet_bytes(model.timeseries()), model.state.citizens.trust.tolist()


@pytest.mark.parametrize("kwargs", [{"policy": "comprehensive"},
                                    {"policy": "outreach", "portfolio": "indonesia"}])
def test_a_run_on_two_threads_equals_the_run_on_one(kwargs, monkeypatch):
    monkeypatch.setattr(parallel, "run_threads", lambda: 1)
    one = _outputs(**kwargs)
    monkeypatch.setattr(parallel, "MIN_TIES_PER_PART", 1)
    monkeypatch.setattr(parallel, "MIN_CITIZENS_IN_BACKGROUND", 0)
    monkeypatch.setattr(parallel, "run_threads", lambda: 2)
    assert _outputs(**kwargs) == one


def test_a_product_inside_background_work_does_not_wait_on_the_pool(monkeypatch):
    """The pool has one worker on two cores: a job on it that multiplies (the trust rule's neighbour
    mean) does the product itself instead of queueing behind itself."""
    monkeypatch.setattr(parallel, "run_threads", lambda: 2)
    adjacency = sparse.random_array((20_000, 20_000), density=0.002, format="csr", dtype=np.float32, rng=3)
    parts = parallel.row_parts(adjacency, threads=2)
    x = np.random.default_rng(1).random(20_000).astype(np.float32)
    job = parallel.in_background(10**7, parallel.product, adjacency, parts, x)
    assert np.array_equal(job.result(timeout=30), adjacency @ x)


def test_a_larger_pool_replaces_the_old_one_and_its_pending_work_still_finishes():
    gate = threading.Event()
    old = parallel._thread_pool(1)
    pending = old.submit(lambda: gate.wait(10) and 42)
    new = parallel._thread_pool(3)
    assert new is not old and parallel._thread_pool(2) is new
    gate.set()
    assert pending.result(timeout=10) == 42


def test_a_begun_product_is_the_product_bit_for_bit_with_its_head_on_another_thread(monkeypatch):
    """The trust rule's neighbour mean: most rows on the pool's thread while the caller works, the
    rest on the caller's thread at ``.result()``; halves only where both hold enough ties."""
    monkeypatch.setattr(parallel, "run_threads", lambda: 2)
    big = sparse.random_array((20_000, 20_000), density=0.002, format="csr", dtype=np.float32, rng=4)
    x = np.random.default_rng(2).random(20_000).astype(np.float32)
    monkeypatch.setattr(parallel, "MIN_TIES_PER_PART", 300_000)
    assert parallel.row_halves(big, 0.7) is None  # 800,000 ties: 240,000 in the tail
    monkeypatch.setattr(parallel, "MIN_TIES_PER_PART", 200_000)
    halves = parallel.row_halves(big, 0.7)
    assert halves is not None and sum(h.shape[0] for h in halves) == 20_000
    assert abs(halves[0].nnz / big.nnz - 0.7) < 0.01 and np.shares_memory(halves[1].data, big.data)
    threads = []
    monkeypatch.setattr(type(halves[0]), "__matmul__", lambda self, v: (
        threads.append(threading.current_thread().name), sparse.csr_array._matmul_dispatch(self, v))[1])
    begun = parallel.begin_product(big, halves, x)
    assert isinstance(begun, parallel.BegunProduct)
    assert np.array_equal(begun.result(), big._matmul_dispatch(x))
    assert threads[0].startswith(parallel.POOL_PREFIX) and threads[1] == threading.current_thread().name
    monkeypatch.setattr(parallel, "run_threads", lambda: 1)
    assert parallel.row_halves(big, 0.7) is None
    assert np.array_equal(parallel.begin_product(big, None, x).result(), big._matmul_dispatch(x))

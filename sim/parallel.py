"""Both cores for one run: sparse products split by rows, and random numbers drawn ahead, on threads.

scipy's CSR product and numpy's random fills release the GIL, so a run can use a second core without a
second process:

- the rows of the adjacency are cut into as many parts as the run may use threads and each part is
  multiplied on its own thread. Every row's sum is computed exactly as in one product (same order of
  terms, same float type), so the result is identical bit for bit, whatever the number of threads;
- a month's uniform draws of a random stream that the month's first phases do not use are drawn on
  another thread while those phases run (:func:`in_background`). Each stream is drawn by one thread in
  its usual order, so the numbers are the same.

How many threads a run may use: the cores the process may run on, capped by ``OMP_NUM_THREADS`` where it
is set. joblib's workers set that variable so that the workers of a sweep share the cores rather than
each spawning threads over all of them (two workers on two cores get one thread each), Ray's workers set
it to 1, and a user can set it to keep one run on one core.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import numpy as np
from scipy import sparse

# Fewer stored ties than this per part and a thread's hand-off costs more than the split saves. Measured
# on the model's network (10th percentile of 200 products, two threads): 10,000 citizens (58,000 stored
# ties) split 0.84x as fast as one product, 30,000 (174,000) 0.91x, 100,000 (579,000) 1.57x.
MIN_TIES_PER_PART = 200_000
# Work for fewer citizens than this runs in the calling thread. A setting, not a measured break-even:
# below it a month takes a few milliseconds (20,000 citizens: about 4 ms) and a thread's hand-off, tens
# of microseconds, is no longer negligible, while the gain (the overlapped draws) shrinks with the size.
MIN_CITIZENS_IN_BACKGROUND = 100_000

POOL_PREFIX = "sim-parallel"

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_workers = 0


def run_threads() -> int:
    """Threads one run may use: the usable cores, capped by ``OMP_NUM_THREADS`` where set (>= 1)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cap = os.environ.get("OMP_NUM_THREADS", "").strip()
    if cap.isdigit() and int(cap) > 0:
        cores = min(cores, int(cap))
    return max(cores, 1)


def row_parts(matrix: sparse.csr_array, threads: int | None = None) -> list[sparse.csr_array] | None:
    """The matrix cut into row blocks of about equal numbers of stored ties, one per thread, each sharing
    the matrix's index and value arrays (no copy); None when one product is as fast (one thread, or too
    few ties per part)."""
    threads = run_threads() if threads is None else threads
    parts = min(threads, matrix.nnz // MIN_TIES_PER_PART)
    if parts < 2:
        return None
    return _row_blocks(matrix, np.linspace(0, matrix.nnz, parts + 1)[1:-1])


def row_halves(matrix: sparse.csr_array, head_share: float) -> list[sparse.csr_array] | None:
    """The matrix cut into two row blocks, the first holding about ``head_share`` of the stored ties
    (:func:`begin_product`); None where the run has one thread or either block would hold too few ties
    to pay for a thread's hand-off."""
    if run_threads() < 2 or min(head_share, 1 - head_share) * matrix.nnz < MIN_TIES_PER_PART:
        return None
    return _row_blocks(matrix, np.array([head_share * matrix.nnz]))


def _row_blocks(matrix: sparse.csr_array, cut_ties: np.ndarray) -> list[sparse.csr_array]:
    """The matrix's row blocks between the rows where the stored ties reach ``cut_ties``."""
    indptr = matrix.indptr
    cuts = np.searchsorted(indptr, cut_ties).tolist()
    bounds = [0, *cuts, matrix.shape[0]]
    blocks = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        start, end = int(indptr[lo]), int(indptr[hi])
        block = sparse.csr_array((hi - lo, matrix.shape[1]), dtype=matrix.dtype)
        # set after construction: the constructor copies a view of a much larger array ("prunes" it)
        block.indptr = indptr[lo:hi + 1] - indptr[lo]
        block.indices, block.data = matrix.indices[start:end], matrix.data[start:end]
        blocks.append(block)
    return blocks


def product(matrix: sparse.csr_array, parts: list[sparse.csr_array] | None, x: np.ndarray) -> np.ndarray:
    """``matrix @ x``, over the row ``parts`` on as many threads where there are parts."""
    if parts is None or _on_pool_thread():
        return matrix @ x  # the same sums in one pass (a job on the pool must not wait on the pool)
    pool = _thread_pool(len(parts) - 1)
    pending = [pool.submit(part.__matmul__, x) for part in parts[1:]]
    first = parts[0] @ x
    return np.concatenate([first, *(job.result() for job in pending)])


class BegunProduct:
    """``matrix @ x`` begun (:func:`begin_product`): its first rows on the pool's thread from now on, the
    other rows on the calling thread when :meth:`result` is asked for."""

    def __init__(self, head: sparse.csr_array, tail: sparse.csr_array, x: np.ndarray) -> None:
        self._head = _thread_pool(1).submit(head.__matmul__, x)
        self._tail, self._x = tail, x

    def result(self) -> np.ndarray:
        rest = self._tail @ self._x
        return np.concatenate([self._head.result(), rest])


def begin_product(matrix: sparse.csr_array, halves: list[sparse.csr_array] | None,
                  x: np.ndarray) -> Pending[np.ndarray]:
    """``matrix @ x`` for a caller with work of its own to do meanwhile: the first of the row ``halves``
    (:func:`row_halves`) goes to the pool's thread now, the caller works, then multiplies the other
    rows itself and joins the two (``.result()``). Where the caller's work takes about as long as the
    tail, neither thread waits for the other, where :func:`in_background` left the caller waiting for
    the whole product on one thread. Every row's sum is the one product's, bit for bit. Without halves
    (one thread, a small network) or on the pool's own thread, the product is done now, in one pass."""
    if halves is None or _on_pool_thread():
        return _Done(matrix @ x)
    head, tail = halves
    return BegunProduct(head, tail, x)


class _Done(Generic[T]):
    """A result computed in the calling thread, read like a finished Future."""

    def __init__(self, value: T) -> None:
        self._value = value

    def result(self) -> T:
        return self._value


# What a begun computation gives: read its value with ``.result()``.
Pending = Future[T] | BegunProduct | _Done[T]


def in_background(n_citizens: int, work: Callable[..., T], *args: Any) -> Future[T] | _Done[T]:
    """``work(*args)`` on the pool's thread when the run may use two threads and is large enough to
    gain; otherwise now, in this thread. Either way ``.result()`` gives its value. ``work`` must touch
    nothing the calling thread uses until then (e.g. only a random stream of its own)."""
    if n_citizens < MIN_CITIZENS_IN_BACKGROUND or run_threads() < 2 or _on_pool_thread():
        return _Done(work(*args))
    return _thread_pool(1).submit(work, *args)


def _on_pool_thread() -> bool:
    """Whether this code runs as a job of the pool (whose only worker would then wait on itself)."""
    return threading.current_thread().name.startswith(POOL_PREFIX)


def _thread_pool(workers: int) -> ThreadPoolExecutor:
    """The process's pool with at least ``workers`` threads (rebuilt after a fork, whose child has none
    of the parent's threads, and when more threads are asked for; the old pool's idle threads end)."""
    global _pool, _pool_pid, _pool_workers
    if _pool is None or _pool_pid != os.getpid() or _pool_workers < workers:
        if _pool is not None and _pool_pid == os.getpid():
            _pool.shutdown(wait=False)
        _pool_workers = max(workers, 1)
        _pool = ThreadPoolExecutor(max_workers=_pool_workers, thread_name_prefix=POOL_PREFIX)
        _pool_pid = os.getpid()
    return _pool

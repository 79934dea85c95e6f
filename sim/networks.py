"""Citizens' social networks as symmetric CSR adjacency matrices.

Two backends build the same graph families:

* ``array`` (default): numpy generators that sample edge lists directly. They scale to tens of
  millions of citizens (networkx needs about 30 s and 2.7 GB for one million nodes).
* ``networkx``: the reference generators, for small populations and for checking the array ones
  (tests compare degree distribution, homophily and clustering).

Families: ``homophilous`` (a stochastic block model over region x urban x income quintile: a share
``homophily`` of each citizen's ties fall inside their own block), ``small_world`` (Watts-Strogatz),
``random`` (Erdos-Renyi G(n, m) at the given mean degree), ``scale_free`` (Chung-Lu with power-law
expected degrees; the networkx reference is Barabasi-Albert) and ``mean_field`` (no graph: everyone
sees the population share).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse

from sim.names import NETWORK_BACKENDS, NETWORK_KINDS
from sim.parameters import Block, par


@dataclass
class NetworkConfig(Block):
    """The citizens' social network."""

    kind: str = par("homophilous", "-", "network family", "-", choices=NETWORK_KINDS)
    mean_degree: float = par(10.0, "ties / citizen", "mean number of social ties", low=0,
                             low_open=True, prior=(5.0, 20.0))
    homophily: float = par(0.7, "share of ties", "share of ties inside one's own region x urban x "
                           "income block (homophilous)", low=0, high=1, prior=(0.4, 0.9))
    rewire_p: float = par(0.1, "probability", "small-world rewiring probability",
                          "option of the small_world family (Watts-Strogatz); unused by the default network",
                          low=0, high=1)
    powerlaw_exponent: float = par(
        3.0, "-", "scale-free degree exponent", "option of the scale_free family; unused by the default "
        "network", low=2, low_open=True)
    backend: str = par("array", "-", "array (fast numpy generators) or networkx (reference, small n)",
                       "-", choices=NETWORK_BACKENDS)


def edges_to_csr(u: np.ndarray, v: np.ndarray, n: int) -> sparse.csr_array:
    """Undirected simple graph from an edge list: drops self-loops and duplicate edges."""
    return keys_to_csr(unique_keys(u, v, n), n)


def unique_keys(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """The distinct ties of an edge list as sorted int64 keys ``lo * n + hi`` (lo < hi).

    One sort, then a comparison with the neighbour (numpy's hash-based ``np.unique`` is many
    times slower on tens of millions of keys).
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keys = np.minimum(u, v) * n + np.maximum(u, v)
    keys = keys[u != v]
    return _sorted_unique(keys)


def _sorted_unique(keys: np.ndarray, runs: bool = False) -> np.ndarray:
    """Sorted distinct keys. ``runs``: the keys are a few sorted runs one after the other, which
    the stable sort (timsort) merges in linear time."""
    keys = np.sort(keys, kind="stable" if runs else None)
    if keys.size:
        first = np.empty(keys.size, dtype=bool)
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        keys = keys[first]
    return keys


def keys_to_csr(keys: np.ndarray, n: int) -> sparse.csr_array:
    """Symmetric CSR adjacency (float32 ones) from sorted distinct keys ``lo * n + hi``, lo < hi.

    The keys list the upper triangle row by row; one sort of the transposed keys lists the lower
    triangle row by row. In every row the lower neighbours (columns < row) come before the upper
    ones (columns > row), so both parts are written straight into the CSR arrays, already in
    canonical order (sorted, no duplicates): no COO -> CSR conversion.
    """
    lo, hi = np.divmod(keys, n)
    m = lo.size
    upper_count = np.bincount(lo, minlength=n)
    lower_count = np.bincount(hi, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(upper_count + lower_count, out=indptr[1:])
    index_dtype = _index_dtype(max(n, 2 * m))
    indices = np.empty(2 * m, dtype=index_dtype)
    rank = np.arange(m, dtype=np.int64)
    # Upper entry j (row lo[j]) goes after every lower entry of rows <= lo[j].
    indices[rank + np.cumsum(lower_count)[lo]] = hi
    # Lower entry j of the transposed order (row r) goes after every upper entry of rows < r.
    transposed = hi * n + lo
    del lo, hi
    transposed.sort()
    row, col = np.divmod(transposed, n)
    del transposed
    indices[rank + (np.cumsum(upper_count) - upper_count)[row]] = col
    del row, col, rank
    data = np.ones(2 * m, dtype=np.float32)
    matrix = sparse.csr_array((data, indices, indptr.astype(index_dtype)), shape=(n, n))
    matrix.has_sorted_indices = True
    matrix.has_canonical_format = True
    return matrix


def distinct_ties(draw, n: int, m: int, rng: np.random.Generator, max_rounds: int = 50) -> np.ndarray:
    """``m`` distinct ties (sorted keys) from a tie sampler ``draw(k) -> (u, v)``.

    Self-loops and repeated ties are dropped and the shortfall is drawn again from the same sampler
    (so a graph has its intended number of ties even where small groups make repeats common); a
    random few are dropped if the last round overshoots. Stops after ``max_rounds`` if the sampler
    cannot produce ``m`` distinct ties.
    """
    m = min(m, n * (n - 1) // 2)
    keys = unique_keys(*draw(m), n)
    for _ in range(max_rounds):
        if keys.size >= m:
            break
        need = int((m - keys.size) * 1.1) + 16
        keys = _sorted_unique(np.concatenate([keys, unique_keys(*draw(need), n)]), runs=True)
    if keys.size > m:
        keys = np.delete(keys, rng.choice(keys.size, keys.size - m, replace=False))
    return keys


def _index_dtype(n: int) -> type:
    return np.int32 if n < 2**31 else np.int64


def _n_edges(n: int, mean_degree: float) -> int:
    return int(round(n * mean_degree / 2))


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> sparse.csr_array:
    """G(n, m) with m = n * mean_degree / 2 distinct edges."""

    def draw(k: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.integers(0, n, k), rng.integers(0, n, k)

    return keys_to_csr(distinct_ties(draw, n, _n_edges(n, mean_degree), rng), n)


def small_world(n: int, mean_degree: float, rewire_p: float, rng: np.random.Generator):
    """Watts-Strogatz: a ring lattice with k/2 neighbours each side, each edge's far end rewired."""
    half = max(1, int(round(mean_degree / 2)))
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (u + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(u.size) < rewire_p
    v = np.where(rewire, rng.integers(0, n, u.size), v)
    return edges_to_csr(u, v, n)


def homophilous(
    n: int, mean_degree: float, homophily: float, block: np.ndarray, rng: np.random.Generator
) -> sparse.csr_array:
    """Stochastic block model over the citizens' blocks, a share ``homophily`` of ties inside blocks.

    The networkx reference is ``nx.stochastic_block_model`` with p_in = h*k/size_b + (1-h)*k/n and
    p_out = (1-h)*k/n. Sampled here as the union of two sets of distinct ties with the same expected
    numbers: in each block b, min(pairs_b, h*k/2 * (size_b - 1)) ties among its members (a small
    block is complete, as p_in >= 1 makes it in the block model), and (1-h)*k/2 * (n - 1) ties
    uniform over all pairs.
    """
    block = np.asarray(block).astype(np.int64)
    # A stable sort of small integers is a radix sort (linear): block ids fit in a few bits.
    small = block.astype(np.min_scalar_type(max(int(block.max(initial=0)), 0)))
    order = np.argsort(small, kind="stable")
    sizes = np.bincount(block)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pairs = sizes * (sizes - 1) // 2
    target = np.minimum(pairs, np.round(homophily * mean_degree / 2 * np.maximum(sizes - 1, 0)))
    inside = _block_ties(target.astype(np.int64), sizes, starts, order, n, rng)

    def anywhere(k: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.integers(0, n, k), rng.integers(0, n, k)

    m_anywhere = int(round((1 - homophily) * mean_degree / 2 * (n - 1)))
    keys = np.concatenate([inside, distinct_ties(anywhere, n, m_anywhere, rng)])
    return keys_to_csr(_sorted_unique(keys, runs=True), n)


def _block_ties(target: np.ndarray, sizes: np.ndarray, starts: np.ndarray, order: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``target[b]`` distinct ties among the members of each block b (sorted keys).

    Small or dense blocks: a random subset of all their pairs. Large sparse blocks: pairs drawn
    uniformly, repeats drawn again (:func:`distinct_ties`).
    """
    keys = []
    for b in np.flatnonzero(target):
        members = order[starts[b]:starts[b] + sizes[b]].astype(np.int64)  # increasing
        size, t = int(sizes[b]), int(target[b])
        n_pairs = size * (size - 1) // 2
        if n_pairs <= 20_000 or n_pairs <= 4 * t:
            i, j = np.triu_indices(size, k=1)
            pick = rng.choice(n_pairs, size=t, replace=False)
            i, j = i[pick], j[pick]
        else:

            def draw(k: int, size: int = size) -> tuple[np.ndarray, np.ndarray]:
                return rng.integers(0, size, k), rng.integers(0, size, k)

            i, j = np.divmod(distinct_ties(draw, size, t, rng), size)
        keys.append(members[i] * n + members[j])  # i < j, so members[i] < members[j]
    return _sorted_unique(np.concatenate(keys)) if keys else np.empty(0, dtype=np.int64)


def scale_free(
    n: int, mean_degree: float, exponent: float, rng: np.random.Generator
) -> sparse.csr_array:
    """Chung-Lu graph with expected degrees following a power law with the given exponent."""
    ranks = np.arange(1, n + 1, dtype=float)
    weights = ranks ** (-1.0 / (exponent - 1.0))
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    perm = rng.permutation(n)  # node labels carry no meaning

    def draw(k: int) -> tuple[np.ndarray, np.ndarray]:
        u = np.searchsorted(cdf, rng.random(k), side="right")
        v = np.searchsorted(cdf, rng.random(k), side="right")
        return perm[np.minimum(u, n - 1)], perm[np.minimum(v, n - 1)]

    return keys_to_csr(distinct_ties(draw, n, _n_edges(n, mean_degree), rng), n)


def _networkx_graph(cfg: NetworkConfig, n: int, block: np.ndarray, rng: np.random.Generator):
    seed = int(rng.integers(0, 2**31 - 1))
    k = cfg.mean_degree
    if cfg.kind == "random":
        return nx.gnm_random_graph(n, _n_edges(n, k), seed=seed)
    if cfg.kind == "small_world":
        return nx.watts_strogatz_graph(n, 2 * max(1, int(round(k / 2))), cfg.rewire_p, seed=seed)
    if cfg.kind == "scale_free":
        return nx.barabasi_albert_graph(n, max(1, int(round(k / 2))), seed=seed)
    # homophilous: the equivalent stochastic block model
    sizes = np.bincount(block)
    present = np.flatnonzero(sizes)
    p_out = (1 - cfg.homophily) * k / n
    probs = [
        [
            min(1.0, (cfg.homophily * k / sizes[a] if a == b else 0.0) + p_out)
            for b in present
        ]
        for a in present
    ]
    graph = nx.stochastic_block_model([int(sizes[a]) for a in present], probs, seed=seed)
    # SBM numbers nodes block by block; map back to citizen indices.
    order = np.argsort(block, kind="stable")
    return nx.relabel_nodes(graph, {i: int(order[i]) for i in range(n)})


def build_network(
    cfg: NetworkConfig, n: int, block: np.ndarray, rng: np.random.Generator
) -> sparse.csr_array | None:
    """The citizens' network for ``cfg.kind``; ``None`` for mean field."""
    if cfg.kind == "mean_field":
        return None
    if cfg.backend == "networkx":
        graph = _networkx_graph(cfg, n, block, rng)
        matrix = nx.to_scipy_sparse_array(graph, nodelist=range(n), dtype=np.float32, format="csr")
        matrix.sort_indices()
        return matrix
    if cfg.kind == "random":
        return erdos_renyi(n, cfg.mean_degree, rng)
    if cfg.kind == "small_world":
        return small_world(n, cfg.mean_degree, cfg.rewire_p, rng)
    if cfg.kind == "scale_free":
        return scale_free(n, cfg.mean_degree, cfg.powerlaw_exponent, rng)
    return homophilous(n, cfg.mean_degree, cfg.homophily, block, rng)


def network_block(region: np.ndarray, urban: np.ndarray, quintile: np.ndarray) -> np.ndarray:
    """Each citizen's block of the homophilous network: island group x urban/rural x income quintile."""
    return region.astype(np.int64) * 10 + urban.astype(np.int64) * 5 + quintile


def locality_order(cfg: NetworkConfig, block: np.ndarray) -> np.ndarray | None:
    """The citizens' numbering that puts network neighbours close in memory (``order[new] = old``), or
    None to keep the order they were drawn in.

    Homophilous networks have most ties inside a block, so with the citizens numbered block by block
    most of a citizen's neighbours lie in a window of the size of their block, and a neighbour product
    reads those neighbours' values from the processor's cache instead of from anywhere in memory (at
    1 M citizens the month took about a tenth less time, see benchmarks/results.md). The citizens are
    drawn independently of each other, so numbering them in another order changes no distribution.
    The small-world ring is built along the numbering (renumbering would change its ties), and random
    and scale-free networks have no order that keeps neighbours together.
    """
    if cfg.kind != "homophilous":
        return None
    small = block.astype(np.min_scalar_type(max(int(block.max(initial=0)), 0)))
    return np.argsort(small, kind="stable")


def degrees(adjacency: sparse.csr_array | None, n: int) -> np.ndarray:
    """Each citizen's number of ties, or on a weighted network the weight of their ties."""
    if adjacency is None:
        return np.full(n, float(n - 1))
    if adjacency.data.size and not np.all(adjacency.data == 1):
        return np.asarray(adjacency.sum(axis=1), dtype=np.float64).ravel()
    return np.diff(adjacency.indptr).astype(np.float64)


def weighted_by_neighbour(adjacency: sparse.csr_array, weight: np.ndarray) -> sparse.csr_array:
    """The adjacency with each tie weighted by the neighbour's survey weight (:mod:`sim.weights`).

    In a sample stratified by province, an over-sampled province's citizens are more numerous among
    everyone's ties than its people are among real acquaintances; weighted by the people each neighbour
    stands for, a share or mean over one's neighbours counts them as the population would. The graph
    (who is tied to whom) is unchanged; the neighbour products cost the same."""
    data = weight[adjacency.indices].astype(adjacency.dtype)
    out = sparse.csr_array((data, adjacency.indices, adjacency.indptr), shape=adjacency.shape)
    out.has_sorted_indices = True
    return out

"""The array network generators against their networkx references, at small sizes.

For each family the two backends should give the same degree distribution, the same share of ties
inside a citizen's own block (homophily) and the same clustering, within sampling noise (several
seeds each). Every adjacency must be a symmetric CSR matrix of ones without self-loops. The
incremental neighbour counts the model keeps must equal full products.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim import neighbours, networks
from sim.config import NetworkConfig
from sim.model import DigitalAdoptionModel
from sim.networks import build_network, edges_to_csr

N = 2000
SEEDS = range(3)
KINDS = ("random", "small_world", "scale_free", "homophilous")


def _blocks(n: int) -> np.ndarray:
    """Blocks like the model's (region x urban x quintile): unequal sizes, some small."""
    rng = np.random.default_rng(7)
    region = rng.choice(6, n, p=[0.5610, 0.2168, 0.0615, 0.0736, 0.0554, 0.0317])
    return region * 10 + (rng.random(n) < 0.58) * 5 + rng.integers(0, 5, n)


def _stats(adjacency, block: np.ndarray) -> dict[str, float]:
    degree = np.diff(adjacency.indptr)
    rows = np.repeat(np.arange(adjacency.shape[0]), degree)
    graph = nx.from_scipy_sparse_array(adjacency)
    return {
        "mean_degree": float(degree.mean()),
        "sd_degree": float(degree.std()),
        "p10": float(np.percentile(degree, 10)),
        "p50": float(np.percentile(degree, 50)),
        "p90": float(np.percentile(degree, 90)),
        "max_over_mean": float(degree.max() / degree.mean()),
        "homophily": float(np.mean(block[rows] == block[adjacency.indices])),
        "clustering": float(nx.average_clustering(graph)),
    }


@pytest.fixture(scope="module")
def stats() -> dict[tuple[str, str], dict[str, float]]:
    """Mean of each statistic over seeds, per (kind, backend)."""
    block = _blocks(N)
    out = {}
    for kind in KINDS:
        for backend in ("array", "networkx"):
            cfg = NetworkConfig(kind=kind, backend=backend)
            runs = [_stats(build_network(cfg, N, block, np.random.default_rng(seed)), block)
                    for seed in SEEDS]
            out[kind, backend] = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ["array", "networkx"])
def test_adjacency_is_symmetric_binary_without_self_loops(kind, backend):
    cfg = NetworkConfig(kind=kind, backend=backend)
    adjacency = build_network(cfg, 500, _blocks(500), np.random.default_rng(1))
    assert adjacency.shape == (500, 500)
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    assert np.all(adjacency.data == 1)
    assert adjacency.has_canonical_format  # sorted column indices, no duplicates


@pytest.mark.parametrize("kind", KINDS)
def test_mean_degree_matches(stats, kind):
    array, reference = stats[kind, "array"], stats[kind, "networkx"]
    assert array["mean_degree"] == pytest.approx(reference["mean_degree"], rel=0.02)
    assert array["mean_degree"] == pytest.approx(10.0, rel=0.03)


@pytest.mark.parametrize("kind", ["random", "small_world", "homophilous"])
def test_degree_distribution_matches(stats, kind):
    array, reference = stats[kind, "array"], stats[kind, "networkx"]
    assert array["sd_degree"] == pytest.approx(reference["sd_degree"], rel=0.1)
    for q in ("p10", "p50", "p90"):
        assert abs(array[q] - reference[q]) <= 1.0, q


def test_scale_free_degrees_are_heavy_tailed_like_the_reference(stats):
    """Chung-Lu (array) and Barabasi-Albert (networkx) share the power-law tail (exponent 3), not the
    low end: Barabasi-Albert gives everyone at least k/2 ties."""
    array, reference = stats["scale_free", "array"], stats["scale_free", "networkx"]
    for s in (array, reference):
        assert s["sd_degree"] > 0.8 * s["mean_degree"]  # far from Poisson (sd = sqrt(mean))
        assert s["max_over_mean"] > 15
    assert array["sd_degree"] == pytest.approx(reference["sd_degree"], rel=0.25)
    assert array["p90"] == pytest.approx(reference["p90"], rel=0.15)
    assert array["max_over_mean"] == pytest.approx(reference["max_over_mean"], rel=0.35)


@pytest.mark.parametrize("kind", KINDS)
def test_homophily_share_matches(stats, kind):
    array, reference = stats[kind, "array"], stats[kind, "networkx"]
    assert array["homophily"] == pytest.approx(reference["homophily"], abs=0.015)
    if kind == "homophilous":
        assert array["homophily"] == pytest.approx(0.7, abs=0.02)
    else:
        assert array["homophily"] < 0.05


@pytest.mark.parametrize("kind", KINDS)
def test_clustering_matches(stats, kind):
    array, reference = stats[kind, "array"], stats[kind, "networkx"]
    if kind == "small_world":
        assert array["clustering"] == pytest.approx(reference["clustering"], abs=0.02)
        assert array["clustering"] > 0.4
    elif kind == "scale_free":
        # Both low; Barabasi-Albert's hubs cluster a little more than Chung-Lu's.
        assert 0.5 < array["clustering"] / reference["clustering"] < 1.5
    else:
        assert array["clustering"] == pytest.approx(reference["clustering"], rel=0.15, abs=0.002)


def test_edges_to_csr_drops_repeats_and_self_loops():
    u = np.array([0, 1, 1, 2, 3, 3, 4])
    v = np.array([1, 0, 1, 3, 2, 4, 4])
    adjacency = edges_to_csr(u, v, 5)
    assert adjacency.nnz == 6  # ties 0-1, 2-3, 3-4, each stored twice
    assert adjacency.toarray().tolist() == [
        [0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 1, 0],
    ]


def test_large_graph_is_built_as_arrays():
    """100 000 citizens: a homophilous graph with about n*k/2 ties, no networkx involved."""
    n = 100_000
    adjacency = build_network(NetworkConfig(), n, _blocks(n), np.random.default_rng(3))
    assert adjacency.nnz / n == pytest.approx(10.0, rel=0.01)
    assert adjacency.indices.dtype == np.int32


def test_tracked_neighbour_counts_equal_full_products():
    """The model keeps neighbour counts of awareness and use between months, updated from the
    citizens whose flag changed; after any changes they equal the full product."""
    model = DigitalAdoptionModel(n_citizens=3000, policy="comprehensive", seed=5, steps=12,
                                 policy__start_date=None,
                                 overrides={"progress": False, "materialise_agents": "never"})
    state = model.state
    rng = np.random.default_rng(0)
    for _ in range(12):
        model.step()
        # Arbitrary outside edits must be picked up too (flags set and cleared).
        flip = rng.choice(state.citizens.n, 50, replace=False)
        state.citizens.aware[flip] = ~state.citizens.aware[flip]
        for name, flags in (("aware", state.citizens.aware), ("users", state.citizens.state == 1)):
            tracked = state.neighbour_share(flags, track=name)
            full = (state.adjacency @ flags.astype(float)) / np.maximum(state.degree, 1.0)
            np.testing.assert_array_equal(tracked, full)
            rows = np.flatnonzero(~flags)
            np.testing.assert_array_equal(state.neighbour_share(flags, rows=rows), full[rows])


def test_neighbour_means_are_the_exact_means_up_to_float32_rounding():
    """The neighbour sums are float32 products: every citizen's mean is the exact (float64) one to
    ``NEIGHBOUR_MEAN_RTOL``, and the isolated keep their own value."""
    n = 5000
    block = _blocks(n)
    adjacency = build_network(NetworkConfig(), n, block, np.random.default_rng(4))
    degree = networks.degrees(adjacency, n)
    cache = neighbours.NetworkCache(adjacency, degree)
    values = np.random.default_rng(5).random(n)
    exact = np.where(degree > 0, (adjacency.astype(np.float64) @ values) / np.maximum(degree, 1.0), values)
    mean = neighbours.neighbour_mean(adjacency, degree, cache, values)
    assert mean.dtype == np.float64
    np.testing.assert_allclose(mean, exact, rtol=neighbours.NEIGHBOUR_MEAN_RTOL)


def test_citizens_of_a_homophilous_network_are_numbered_block_by_block():
    """For locality the model numbers the citizens of a homophilous network block by block, so most
    ties join citizens with close numbers; other networks keep the order of the draws (the
    small-world ring is built along it). Explicit per-citizen thresholds stay with their numbers."""
    model = DigitalAdoptionModel(n_citizens=4000, seed=2, overrides={"materialise_agents": "never"})
    c = model.state.citizens
    block = networks.network_block(c.region, c.urban, c.quintile)
    assert np.all(np.diff(block) >= 0)
    rows = np.repeat(np.arange(c.n), np.diff(model.state.adjacency.indptr))
    inside = block[rows] == block[model.state.adjacency.indices]
    assert inside.mean() > 0.3  # ties inside a block join nearby numbers (at random: about 1 in 60)
    for kind in ("random", "small_world", "scale_free"):
        assert networks.locality_order(NetworkConfig(kind=kind), block[::-1]) is None
    explicit = np.linspace(0, 1, c.n).tolist()
    model = DigitalAdoptionModel(n_citizens=4000, seed=2, overrides={
        "materialise_agents": "never", "params.adoption.rule": "threshold",
        "params.adoption.thresholds": explicit})
    np.testing.assert_array_equal(model.state.citizens.threshold, explicit)

import numpy as np
import pytest

from qa.index.vectors import APPROXIMATE_FROM, EF_SEARCH, PROBE_SHARE, Dense, choose


def _unit(rows, dim=64, seed=0):
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_choice_is_automatic_and_overridable():
    assert choose("auto", APPROXIMATE_FROM - 1) == "exact"
    assert choose("auto", APPROXIMATE_FROM) == "hnsw"
    assert choose("exact", 10**7) == "exact" and choose("ivf", 10) == "ivf" and choose("hnsw", 10) == "hnsw"
    with pytest.raises(ValueError, match="dense index must be one of"):
        choose("annoy", 10)


def test_exact_search_finds_itself(tmp_path):
    vectors = _unit(500)
    Dense.write(tmp_path, vectors, vectors[:10])
    dense = Dense.load(tmp_path)
    rows, scores = dense.search(vectors[42], 5)
    assert rows[0] == 42 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert dense.ann is None and len(dense) == 500


def test_ivf_agrees_with_exact_search(tmp_path):
    vectors = _unit(6000)
    Dense.write(tmp_path, vectors, vectors[:10], kind="ivf")
    dense = Dense.load(tmp_path, nprobe=1000)
    assert dense.ann is not None and dense.ann.nlist > 1
    for q in _unit(20, seed=1):
        assert set(dense.search(q, 10)[0]) == set(dense.search(q, 10, exact=True)[0])


def test_ivf_searches_a_share_of_its_lists_unless_told(tmp_path):
    Dense.write(tmp_path, _unit(6000), _unit(1), kind="ivf")
    default, told = Dense.load(tmp_path), Dense.load(tmp_path, nprobe=3)
    assert default.ann.nprobe == round(default.ann.nlist * PROBE_SHARE) and told.ann.nprobe == 3


def test_ivf_update_reuses_the_trained_centroids(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    vectors = _unit(6000)
    Dense.write(first, vectors, vectors[:1], kind="ivf")
    previous = Dense.load(first)
    grown = np.concatenate([vectors, _unit(100, seed=2)])
    Dense.write(second, grown, grown[:1], kind="ivf", trained=previous.ann)
    after = Dense.load(second, nprobe=previous.ann.nlist)
    assert after.ann.nlist == previous.ann.nlist and after.ann.ntotal == 6100
    centroids = lambda d: d.ann.quantizer.reconstruct_n(0, d.ann.nlist)
    assert np.allclose(centroids(after), centroids(previous))
    assert after.search(grown[6050], 1)[0][0] == 6050


def test_hnsw_agrees_with_exact_search(tmp_path):
    vectors = _unit(3000)
    Dense.write(tmp_path, vectors, vectors[:10], kind="hnsw")
    assert (tmp_path / "dense.hnsw").exists() and not (tmp_path / "dense.ivf").exists()
    dense = Dense.load(tmp_path, ef_search=3000)
    assert dense.ann.ntotal == 3000
    for q in _unit(20, seed=1):
        rows, scores = dense.search(q, 10)
        assert set(rows) == set(dense.search(q, 10, exact=True)[0])
        assert np.allclose(scores, vectors[rows] @ q, atol=1e-5)


def test_hnsw_keeps_its_default_breadth_unless_told(tmp_path):
    Dense.write(tmp_path, _unit(500), _unit(1), kind="hnsw")
    assert Dense.load(tmp_path).ann.hnsw.efSearch == EF_SEARCH
    assert Dense.load(tmp_path, ef_search=16).ann.hnsw.efSearch == 16


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "exact"])
def test_skipped_rows_are_never_returned(tmp_path, kind):
    vectors = _unit(3000)
    Dense.write(tmp_path, vectors, vectors[:1], kind=kind)
    dense = Dense.load(tmp_path, nprobe=1000, ef_search=3000)
    skip = np.arange(0, 3000, 2)
    for q in vectors[:6]:
        rows, _ = dense.search(q, 20, skip=skip)
        assert len(rows) == 20 and not np.isin(rows, skip).any()
        assert set(rows) == set(dense.search(q, 20, exact=True, skip=skip)[0])


def test_a_build_borrowing_vectors_skips_the_hnsw_graph_but_keeps_ivf_centroids(tmp_path):
    hnsw, ivf = tmp_path / "h", tmp_path / "i"
    hnsw.mkdir(), ivf.mkdir()
    vectors = _unit(3000)
    Dense.write(hnsw, vectors, vectors[:1], kind="hnsw")
    Dense.write(ivf, vectors, vectors[:1], kind="ivf")
    assert Dense.load(hnsw, searching=False).ann is None and Dense.load(hnsw).ann is not None
    assert Dense.load(ivf, searching=False).ann is not None


def _best_among(vectors, query, allowed, n):
    """Brute force: the n best allowed rows."""
    rows = np.flatnonzero(allowed)
    return set(rows[np.argsort(-(vectors[rows] @ query))[:n]])


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
@pytest.mark.parametrize("scan_rows", [0, 10**6])
def test_search_among_allowed_rows_selects_inside_the_search(tmp_path, monkeypatch, kind, scan_rows):
    """Few allowed rows are scanned, many go through the ANN index's selector; either way only allowed rows,
    and the best of them (not the best overall, filtered afterwards)."""
    import qa.index.vectors as vectors_mod

    monkeypatch.setattr(vectors_mod, "SCAN_ROWS", scan_rows)
    vectors = _unit(6000)
    Dense.write(tmp_path, vectors, vectors[:10], kind=kind)
    dense = Dense.load(tmp_path, nprobe=1000)
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::37] = True
    for q in _unit(10, seed=2):
        rows, scores = dense.search_among(q, 10, allowed)
        assert allowed[rows].all() and len(rows) == 10
        assert list(scores) == sorted(scores, reverse=True)
        assert len(set(rows) & _best_among(vectors, q, allowed, 10)) >= 9
    none = dense.search_among(vectors[0], 5, np.zeros(len(vectors), dtype=bool))
    assert len(none[0]) == 0

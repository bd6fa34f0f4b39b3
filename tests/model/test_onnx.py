"""The ONNX Runtime backends embed like sentence-transformers on torch."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.model import onnx
from qa.model.embedder import Embedder, bundled_model_dir, fingerprint

from test_convert import TEXTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def torch_embedder(base_config):
    return Embedder(base_config.model, base_config.model_cache, backend="torch")


@pytest.fixture(scope="module", params=["onnx", "onnx-int8"])
def onnx_embedder(request, base_config):
    return Embedder(base_config.model, base_config.model_cache, backend=request.param)


def test_agrees_with_torch(torch_embedder, onnx_embedder):
    embedder = torch_embedder
    floor = 0.9999 if onnx_embedder.backend == "onnx" else 0.98
    for ours, theirs in [(onnx_embedder.encode_queries(TEXTS), embedder.encode_queries(TEXTS)),
                         (onnx_embedder.encode_passages(TEXTS)[0], embedder.encode_passages(TEXTS)[0])]:
        assert (ours * theirs).sum(axis=1).min() >= floor


def test_sentence_vectors_agree_with_torch(torch_embedder, onnx_embedder):
    embedder = torch_embedder
    text = "Câu thứ nhất về hội nghị. Câu thứ hai về Chỉ thị 35-CT/TW của Bộ Chính trị."
    spans = [[(0, 25), (26, len(text))]]
    ours, theirs = onnx_embedder.encode_passages([text], spans)[1][0], embedder.encode_passages([text], spans)[1][0]
    assert (ours * theirs).sum(axis=1).min() >= (0.9999 if onnx_embedder.backend == "onnx" else 0.98)


def test_int8_has_its_own_fingerprint(torch_embedder, onnx_embedder):
    embedder = torch_embedder
    same = onnx_embedder.backend == "onnx"
    assert (onnx_embedder.fingerprint == embedder.fingerprint) is same
    assert onnx_embedder.dim == embedder.dim and onnx_embedder.max_tokens == embedder.max_tokens


def test_session_starts_on_first_use(base_config):
    fresh = Embedder(base_config.model, base_config.model_cache, threads=2, backend="onnx-int8")
    assert fresh.runner._sessions == []
    assert np.isclose(np.linalg.norm(fresh.encode_queries(["xin chào"])[0]), 1.0, atol=1e-5)
    assert len(fresh.runner._sessions) == 2


def test_a_vector_does_not_depend_on_its_batch(onnx_embedder):
    batch = [f"câu số {i} về hội nghị" + " và các đại biểu" * i * 20 for i in range(5)]
    together = onnx_embedder.encode_passages(batch)[0]
    alone = np.stack([onnx_embedder.encode_passages([t])[0][0] for t in batch])
    assert np.array_equal(together, alone)


def test_an_exported_model_runs_without_importing_torch(onnx_embedder, base_config):
    """Importing torch would add about 1.5 s to every server start."""
    code = ("import sys; from qa.model.embedder import Embedder; "
            f"e = Embedder(cache_dir={str(base_config.model_cache)!r}, backend={onnx_embedder.backend!r}); "
            "e.encode_queries(['xin chào']); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_questions_may_run_on_another_backend(base_config, onnx_embedder):
    mixed = Embedder(base_config.model, base_config.model_cache, backend="onnx", query_backend=onnx_embedder.backend)
    assert mixed.fingerprint == Embedder(base_config.model, base_config.model_cache, backend="onnx").fingerprint
    texts = ["Hội nghị tổng kết công tác năm của Tỉnh ủy", "who chaired the conference?"]
    assert np.array_equal(mixed.encode_queries(texts), onnx_embedder.encode_queries(texts))
    if onnx_embedder.backend == "onnx-int8":
        assert not np.array_equal(mixed.encode_passages(texts)[0], onnx_embedder.encode_passages(texts)[0])
    assert (mixed.runner is mixed.query_runner) is (onnx_embedder.backend == "onnx")


def test_unknown_question_backend(base_config):
    with pytest.raises(ValueError, match="query backend must be one of"):
        Embedder(base_config.model, base_config.model_cache, backend="onnx", query_backend="gpu")


def test_unknown_backend(base_config):
    with pytest.raises(ValueError, match="backend must be one of"):
        Embedder(base_config.model, base_config.model_cache, backend="tpu")


def test_a_first_export_prints_one_line_with_its_time_and_no_warnings(base_config, tmp_path):
    """What a first start shows while it exports: one line, not torch's tracer and exporter warnings
    (a fresh process with every warning shown, as a user's first `serve` would run it)."""
    code = ("import sys; from pathlib import Path; from qa.model import onnx; "
            "onnx.export(Path(sys.argv[1]), Path(sys.argv[2]), quantize=False)")
    folder, dest = bundled_model_dir(base_config.model_cache), tmp_path / "onnx"
    done = subprocess.run([sys.executable, "-W", "always", "-c", code, str(folder), str(dest)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "TracerWarning" not in done.stderr and "Warning" not in done.stderr, done.stderr
    assert re.fullmatch(r"exporting the model to ONNX in .+ \(once\): \d+\.\d s\n", done.stderr), done.stderr
    assert done.stdout == "" and (dest / "model.onnx").exists()


def test_a_damaged_export_is_made_again_and_runs(base_config, onnx_embedder, tmp_path):
    """A half-copied int8 export in the cache is quantised again from the checked fp32 one, not loaded."""
    import onnxruntime as ort

    folder = bundled_model_dir(base_config.model_cache)
    cache = Path(base_config.model_cache) / "onnx" / fingerprint(folder)
    dest = tmp_path / "onnx"
    dest.mkdir()
    for name in ("model.onnx", "model.onnx.sha256", "model_int8.onnx.sha256"):
        (dest / name).symlink_to(cache / name)
    (dest / "model_int8.onnx").write_bytes((cache / "model_int8.onnx").read_bytes()[:1_000_000])
    with pytest.raises(Exception, match="INVALID_PROTOBUF|Protobuf"):
        ort.InferenceSession(str(dest / "model_int8.onnx"), providers=["CPUExecutionProvider"])
    made = onnx.export(folder, dest, quantize=True)
    assert made == dest / "model_int8.onnx" and made.stat().st_size == (cache / "model_int8.onnx").stat().st_size
    session = ort.InferenceSession(str(made), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["token_embeddings"]

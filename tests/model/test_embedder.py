import os
import re

import numpy as np
import pytest

from qa.model import convert
from qa.model.embedder import BUNDLED, Embedder, bundled_model_dir, fingerprint, resolve


def test_loads_offline_from_the_converted_folder(embedder):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert (embedder.folder / "CONVERTED_FROM").exists()
    assert embedder.dim == 384 and embedder.max_tokens == 512


def test_uses_e5_prompts(embedder):
    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")
    question = "Chỉ thị 35 nói về gì?"
    as_query = embedder.encode_queries([question])[0]
    as_passage = embedder.encode_passages([question])[0][0]
    assert float(as_query @ as_passage) < 0.999


def test_vectors_are_normalised_float32(embedder):
    vectors, _ = embedder.encode_passages(["Hội nghị Tỉnh ủy", "Bóng đá"])
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_counts_what_it_encodes(embedder):
    before = embedder.encoded
    embedder.encode_passages(["một", "hai", "ba"])
    assert embedder.encoded == before + 3


def test_any_folder_is_a_model(embedder):
    same = Embedder(str(embedder.folder), embedder.folder.parent)
    assert same.fingerprint == embedder.fingerprint
    question = ["Ai chủ trì hội nghị?"]
    assert np.allclose(same.encode_queries(question), embedder.encode_queries(question), atol=1e-5)


def test_fingerprint_changes_with_the_weights(tmp_path, embedder):
    copy = tmp_path / "model"
    copy.mkdir()
    for name in ("config.json", "modules.json"):
        (copy / name).write_bytes((embedder.folder / name).read_bytes())
    first = fingerprint(copy)
    (copy / "config.json").write_text("{}")
    assert fingerprint(copy) != first


def test_unknown_model_gives_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="neither a folder nor a downloadable"):
        resolve("no-such-org/no-such-model", tmp_path)


def test_long_text_check(embedder):
    assert embedder.fits("ngắn")
    assert not embedder.fits("từ " * 2000)


def test_default_is_the_bundled_model(embedder):
    assert embedder.name == BUNDLED



def test_converting_the_bundled_model_prints_one_line_with_its_time(tmp_path, monkeypatch, capsys):
    """The conversion itself is tested in test_convert; here only what a first start shows, once."""
    def fake_convert(source, dest):
        dest.mkdir(parents=True)
        (dest / "CONVERTED_FROM").write_text(f"{source.name} size={source.stat().st_size}\n")

    monkeypatch.setattr(convert, "convert", fake_convert)
    folder = bundled_model_dir(tmp_path)
    out, err = capsys.readouterr()
    assert out == "" and re.fullmatch(rf"converting the bundled model into {re.escape(str(folder))} \(once\): "
                                      r"\d+\.\d s\n", err), err
    assert bundled_model_dir(tmp_path) == folder and capsys.readouterr() == ("", "")

"""The reader marks the answer in a passage: whole words, inside the passage, from the shipped weights."""
import re
from dataclasses import replace

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from qa.ingest.articles import load_folder
from qa.ingest.passages import split
from qa.model import reader as reader_mod
from qa.model.embedder import bundled_model_dir
from qa.model.reader import Reader, best_span, whole_words

from conftest import SEEDS


def _widened(text: str, inside: str, cut: int = 1) -> str:
    """What whole_words makes of `inside` (found in text) with `cut` characters taken off each end."""
    at = text.index(inside)
    start, end = whole_words(text, at + cut, at + len(inside) - cut)
    return text[start:end]


def test_a_span_is_widened_to_whole_words_and_numbers():
    text = "Có hơn 10.300 đại biểu dự, ngày 22-10 (tăng 5%), theo “Nghị quyết”."
    assert _widened(text, "hơn 10.300") == "hơn 10.300"
    assert _widened(text, "10.300 đại") == "10.300 đại"
    assert _widened(text, ".30", 0) == "10.300"
    assert _widened(text, "22-10") == "22-10"
    assert _widened(text, "(tăng 5%),", 0) == "tăng 5%"
    assert _widened(text, "“Nghị quyết”.", 0) == "Nghị quyết"


def test_punctuation_alone_is_no_span():
    text = "Ngày 22-10, hội nghị (trực tuyến) họp."
    for inside in (", ", " (", ") ", "."):
        at = text.index(inside)
        start, end = whole_words(text, at, at + len(inside))
        assert start == end


def test_the_best_span_stays_among_allowed_tokens_and_short():
    start = np.array([9.0, 1.0, 5.0, 0.0, 0.0, 0.0])
    end = np.array([9.0, 0.0, 0.0, 0.0, 4.0, 8.0])
    allowed = np.array([False, True, True, True, True, True])
    assert best_span(start, end, allowed)[:2] == (2, 5)
    assert best_span(start, end, allowed, longest=3)[:2] == (2, 4)
    assert best_span(start, end, allowed, longest=1)[:2] == (5, 5)


@pytest.fixture(scope="module")
def passages():
    return {a.id: [p.text for p in split(a.id, a.text)] for a in load_folder(SEEDS)[0]}


@pytest.fixture(scope="module")
def fp32_reader(base_config, embedder):
    return Reader.from_config(replace(base_config, reader_precision="fp32"), embedder)


@pytest.mark.parametrize("which", ["reader", "fp32_reader"])
def test_it_marks_the_asked_number_and_name(which, request, passages):
    reader = request.getfixturevalue(which)
    text = next(t for ts in passages.values() for t in ts if "10.300" in t)
    found = reader.read("Có bao nhiêu đại biểu tham dự hội nghị?", text)
    assert "10.300" in text[found.start:found.end]
    text = next(t for ts in passages.values() for t in ts if "Phạm Xuân Thăng" in t)
    found = reader.read("Who chaired the 53rd meeting?", text)
    assert "Phạm Xuân Thăng" in text[found.start:found.end]


def test_every_mark_is_whole_words_of_the_passage(reader, passages):
    questions = ["Ai chủ trì hội nghị?", "Có bao nhiêu điểm cầu?", "Hội nghị diễn ra khi nào?", "Vì sao?",
                 "Where was it held?"]
    checked = 0
    for texts in passages.values():
        for text in texts[:3]:
            for question in questions:
                found = reader.read(question, text)
                span = text[found.start:found.end]
                assert span.strip() == span and re.search(r"\w", span)
                assert found.start == 0 or not text[found.start - 1].isalnum()
                assert found.end == len(text) or not text[found.end].isalnum()
                checked += 1
    assert checked == 5 * sum(min(3, len(t)) for t in passages.values())


def test_nothing_to_read_marks_nothing(reader):
    assert reader.read("", "Hội nghị diễn ra ngày 22-10.") is None
    assert reader.read("Ai chủ trì?", "   ") is None
    assert reader.read("Ai chủ trì?", " … — !!! ") is None


def test_it_shares_the_embedders_tokenizer_and_leaves_its_settings_alone(reader, embedder):
    """One copy of the tokenizer (about 290 MB) serves both; the reader's own cut to MAX_TOKENS never changes the
    truncation the embedder's calls set, which other threads may be using."""
    assert reader.tokenizer is embedder.tokenizer
    vector = embedder.encode_queries(["Hội nghị diễn ra ở đâu?"])
    settings = embedder.tokenizer.backend_tokenizer.truncation
    long = "Hội nghị tỉnh diễn ra tại Hà Nội với 10.300 đại biểu. " * 60
    found = reader.read("Có bao nhiêu đại biểu?", long)
    assert found is not None and found.end <= 1200 and "10.300" in long[found.start:found.end]
    assert embedder.tokenizer.backend_tokenizer.truncation == settings
    assert np.allclose(embedder.encode_queries(["Hội nghị diễn ra ở đâu?"]), vector)


def test_reading_and_embedding_at_once_from_threads(reader, embedder):
    """The served process reads and embeds from several threads with the one tokenizer."""
    from concurrent.futures import ThreadPoolExecutor

    long = "Hội nghị tỉnh diễn ra tại Hà Nội với 10.300 đại biểu. " * 60
    jobs = [lambda: reader.read("Có bao nhiêu đại biểu?", long), lambda: embedder.encode_queries([long])] * 20
    with ThreadPoolExecutor(4) as pool:
        results = [f.result() for f in [pool.submit(job) for job in jobs]]
    assert all(r is not None for r in results) and len(results) == 40


def test_turned_off_by_the_configuration(base_config):
    assert Reader.from_config(replace(base_config, reader=False)) is None


def test_the_export_is_made_once(base_config):
    base = bundled_model_dir(base_config.model_cache)
    first = reader_mod.export(base, reader_mod.WEIGHTS, base_config.model_cache)
    made = first.stat().st_mtime_ns
    assert reader_mod.export(base, reader_mod.WEIGHTS, base_config.model_cache) == first
    assert first.stat().st_mtime_ns == made and not list(first.parent.glob(".export-*"))


def test_int8_is_quantised_and_fp32_is_not(reader, fp32_reader):
    import onnx

    ops = lambda r: {n.op_type for n in onnx.load(str(r.model_file)).graph.node}
    assert "MatMulInteger" in ops(reader)
    assert "MatMulInteger" not in ops(fp32_reader) and "MatMul" in ops(fp32_reader)
    assert reader.model_file.parent == fp32_reader.model_file.parent


def test_an_unknown_precision_is_refused(base_config):
    with pytest.raises(ValueError, match="QA_READER_PRECISION must be one of int8, fp32, not 'fp16'"):
        Reader.from_config(replace(base_config, reader_precision="fp16"))
    with pytest.raises(ValueError, match="QA_READER_PRECISION"):
        Reader.from_config(replace(base_config, reader=False, reader_precision="int4"))


def test_weights_without_the_answer_head_are_refused(tmp_path, base_config):
    weights = {k: v for k, v in load_file(reader_mod.WEIGHTS).items() if not k.startswith("qa_outputs")}
    save_file(weights, str(tmp_path / "headless.safetensors"))
    with pytest.raises(ValueError, match="lacks qa_outputs.weight"):
        reader_mod.changed_weights(bundled_model_dir(base_config.model_cache), tmp_path / "headless.safetensors")

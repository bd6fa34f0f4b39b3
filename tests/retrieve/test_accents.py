import numpy as np

from qa.retrieve.accents import restore

TEXTS = ["Hà Nội là thủ đô của Việt Nam. Báo chí Việt Nam phát triển.", "Thủ đô Hà Nội có nhiều hồ."]


def test_words_typed_without_diacritics_get_the_spelling_the_passages_use():
    assert restore("thu do cua Viet Nam la gi?", TEXTS) == "thủ đô của Việt Nam là gi?"


def test_neighbouring_words_decide_between_spellings():
    texts = ["Báo chí đưa tin.", "Bao nhiêu người? Bao nhiêu cây?", "Tờ báo mới."]
    assert restore("bao chi va bao nhieu", texts) == "báo chí va bao nhiêu"


def test_case_and_punctuation_are_kept_and_marked_words_left_alone():
    assert restore("HA NOI, Thủ do?", TEXTS) == "HÀ NỘI, Thủ đô?"


def test_unknown_words_and_no_passages_leave_the_question_as_typed():
    assert restore("thoi tiet da lat", TEXTS) == "thoi tiet da lat"
    assert restore("thu do", []) == "thu do"


def test_a_question_without_diacritics_is_embedded_as_the_corpus_spells_it(service):
    index = service.index
    typed = service.query(index, "ai chu tri hoi nghi lan thu 53 cua ban thuong vu tinh uy", "vi")
    marked = service.embedder.encode_queries(["Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?"])[0]
    plain = service.embedder.encode_queries(["ai chu tri hoi nghi lan thu 53 cua ban thuong vu tinh uy"])[0]
    assert float(np.dot(typed, marked)) > 0.95 > float(np.dot(plain, marked))
    dense = service.search("ai chu tri hoi nghi lan thu 53 cua ban thuong vu tinh uy", 1, mode="dense")
    assert dense[0]["article_id"] == "001_c3d5175d572a1b4d"

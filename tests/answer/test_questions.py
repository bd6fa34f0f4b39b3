import pytest

from qa.answer.questions import context, head_words, kind


@pytest.mark.parametrize("question, expected", [
    ("Có bao nhiêu đại biểu tham gia?", "number"), ("co bao nhieu dai bieu tham gia?", "number"),
    ("How many delegates attended?", "number"),
    ("Hội nghị diễn ra khi nào?", "time"), ("hoi nghi dien ra ngay nao?", "time"), ("When was it issued?", "time"),
    ("Sắc lệnh được ban hành năm nào?", "time"),
    ("Ai chủ trì hội nghị?", "person"), ("ai chu tri hoi nghi?", "person"), ("Who chaired it?", "person"),
    ("Hội nghị tổ chức ở đâu?", "place"), ("Where was it held?", "place"),
    ("Chỉ thị 17 nói về vấn đề gì?", "definition"), ("chi thi 17 ve viec gi?", "definition"),
    ("What is Directive 17 about?", "definition"),
    ("Vì sao hội nghị bị hoãn?", "reason"), ("Why was it postponed?", "reason"),
    ("Tỉnh triển khai như thế nào?", "manner"), ("How did the province carry it out?", "manner"),
    ("Cơ quan nào ban hành chỉ thị?", "which"), ("Which body issued it?", "which"),
    ("Phương châm là gì?", "what"), ("What did he ask for?", "what"),
])
def test_kinds_in_vietnamese_with_and_without_diacritics_and_english(question, expected):
    assert kind(question) == expected


def test_head_words_are_the_nouns_the_question_word_attaches_to():
    assert head_words("Có bao nhiêu điểm cầu?") == {"diem"}
    assert head_words("Sắc lệnh ban hành năm nào?") == {"nam"}
    assert head_words("How many delegates attended?") == {"delegates"}
    assert head_words("Ai chủ trì?") == set()


def test_context_is_the_words_around_the_question_word():
    assert context("Hội nghị diễn ra vào ngày nào?") == (["vao", "ngay"], [])
    assert context("Ai chủ trì hội nghị?") == ([], ["chu", "tri"])
    assert context("Hội nghị lần thứ sáu") == ([], [])

import json
from pathlib import Path

import pytest

from qa.ingest.language import detect, vietnamese_share

DATA = Path(__file__).resolve().parents[1] / "data"


def _labelled():
    for name in ("seed_questions.jsonl", "out_of_corpus.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            yield record["question"], record["lang"], record["diacritics"]


def test_every_labelled_question():
    wrong = [(q, lang, detect(q)) for q, lang, _ in _labelled() if detect(q) != lang]
    assert not wrong


def test_labelled_set_covers_vietnamese_without_diacritics():
    assert sum(1 for _, lang, marked in _labelled() if lang == "vi" and not marked) >= 15


@pytest.mark.parametrize("text", ["chi thi 35 ve dai hoi dang bo cac cap", "ai chu tri hoi nghi", "gia vang hom nay",
                                  "con nam 2030 thi sao", "cach tang toc do wifi trong nha?", "xin chao"])
def test_vietnamese_typed_without_diacritics(text):
    assert detect(text) == "vi"


@pytest.mark.parametrize("text", ["Ai da gianh Super Bowl XLIX?", "Carl Wilhelm Scheele phat hien ra oxi khi nao?",
                                  "Alan Thicke da viet cuon sach nao?", "Ai thanh lap McKinsey & Company?"])
def test_vietnamese_without_diacritics_around_foreign_names(text):
    assert detect(text) == "vi"


def test_english_title_with_only_short_words_stays_english():
    assert detect("Bruce Springsteen\n1973: The Wild, the Innocent & the E Street Shuffle") == "en"


@pytest.mark.parametrize("text, expected", [("Ai?", "vi"), ("Ngày nào?", "vi"), ("When?", "en"), ("hello", "en"),
                                            ("Who chaired it?", "en"), ("Tỉnh ủy", "vi"), ("Hà Nội", "vi"),
                                            ("Who is Nguyễn Đức Thanh?", "en"), ("Phạm Minh Tấn là ai?", "vi")])
def test_short_texts(text, expected):
    assert detect(text) == expected


def test_other_languages_pass_through_langdetect():
    assert detect("Le congrès du Parti s'est tenu à Hanoï en janvier dernier.") == "fr"
    assert detect("Москва — столица России и крупнейший город страны.") == "ru"


def test_nothing_to_go_on_gives_the_default():
    assert detect("2020-2025 !!!") == "vi"
    assert detect("", default="en") == "en"


def test_repeatable():
    text = "Hội nghị tổng kết"
    assert len({detect(text) for _ in range(20)}) == 1
    assert len({detect("ok la") for _ in range(20)}) == 1


def test_syllable_share():
    assert vietnamese_share("chi thi 35 ve dai hoi") == 1.0
    assert vietnamese_share("what about the second one") < 0.5

import unicodedata

import pytest

from qa.ingest.text import fold, has_diacritics, normalize, tidy, words


@pytest.mark.parametrize("old, new", [("Tỉnh uỷ", "Tỉnh ủy"), ("hoà bình", "hòa bình"), ("khoẻ", "khỏe"),
                                      ("thuỷ", "thủy"), ("UỶ BAN", "ỦY BAN")])
def test_both_tone_placements_meet(old, new):
    assert normalize(old) == normalize(new) == new


@pytest.mark.parametrize("word", ["quý", "giá", "người", "hoàn", "thuyền", "quả", "gì", "khuỷu", "nghĩa"])
def test_canonical_words_unchanged(word):
    assert normalize(word) == word


@pytest.mark.parametrize("word", ["café", "José", "Pokémon"])
def test_foreign_words_keep_their_accents(word):
    assert normalize(word) == word


def test_decomposed_input_is_composed():
    assert normalize(unicodedata.normalize("NFD", "Tỉnh uỷ")) == "Tỉnh ủy"


def test_quotes_dashes_and_spaces():
    assert normalize("“5 rõ”  và  10 – 15%") == '"5 rõ" và 10 - 15%'


def test_tidy_keeps_lines_but_trims_them():
    assert tidy("  a\u00a0 b \r\n\u200b c  ") == "a b\nc"


def test_fold_and_detection():
    assert fold("Đảng bộ tỉnh") == "Dang bo tinh"
    assert has_diacritics("Tỉnh") and not has_diacritics("Chi thi 35")


def test_words_are_lowercase_matching_forms():
    assert words("Chỉ thị 35-CT/TW, Tỉnh uỷ") == ["chỉ", "thị", "35", "ct", "tw", "tỉnh", "ủy"]

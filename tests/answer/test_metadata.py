import pytest

from qa.answer.metadata import field, sentence, value


@pytest.mark.parametrize("question, expected", [
    ("Ai là tác giả bài viết về hội nghị lần thứ 53?", "author"), ("ai viet bai bao nay?", "author"),
    ("Bài báo về hội nghị trực tuyến do ai viết?", "author"), ("Who wrote the article about the meeting?", "author"),
    ("Bài viết về hội nghị được đăng ngày nào?", "date"), ("bai viet nay duoc dang khi nao?", "date"),
    ("When was the article about the conference published?", "date"),
    ("Bài viết này được đăng trên báo nào?", "source"), ("Which newspaper published the story?", "source"),
    ("Bài viết về hội nghị có tiêu đề là gì?", "title"), ("tieu de cua bai viet la gi", "title"),
    ("What is the title of the article about Resolution 116?", "title"),
    # about the story's content, not about the article
    ("Ai viết Chỉ thị 35?", None), ("Hội nghị diễn ra khi nào?", None), ("Ai chủ trì hội nghị?", None),
    ("Tên của Chỉ thị là gì?", None), ("Who chaired the meeting?", None),
])
def test_fields_are_recognised_only_when_the_article_itself_is_asked_about(question, expected):
    assert field(question) == expected


def test_values_come_from_the_metadata():
    article = {"author": " Lê Hương ", "date": "2019-11-07T16:07:00+07:00", "url": "https://baolangson.vn/a/1.html",
               "title": "Hội nghị trực tuyến"}
    assert value(article, "author") == "Lê Hương"
    assert value(article, "date") == "2019-11-07"
    assert value(article, "source") == "baolangson.vn"
    assert value(article, "title") == "Hội nghị trực tuyến"
    assert value({"author": "", "date": None, "url": None, "title": " "}, "author") is None
    assert value({"date": None}, "date") is None and value({"url": None}, "source") is None


def test_answer_line_follows_the_question_language():
    assert sentence("author", "Lê Hương", "vi") == "Tác giả: Lê Hương"
    assert sentence("date", "2019-11-07", "en") == "Published: 2019-11-07"

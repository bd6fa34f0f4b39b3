"""Tests for qa.ingest.pages: trafilatura's reading of news pages in realistic templates."""
from news_site import article_page, generated_story, seed_stories, windows_1258

from qa.ingest import pages
from qa.ingest.articles import from_page
from qa.ingest.text import tidy


def test_story_is_the_body_without_page_furniture():
    story = seed_stories()[2]
    page = pages.read(article_page(story, "Báo Mẫu", "https://bao.example/news/a.html"), "https://bao.example/x")
    assert page.text == tidy("\n\n".join(story.paragraphs))
    for furniture in ("cookie", "Trang chủ", "Chia sẻ", "Tin liên quan", "Bình luận", "Gửi bình luận", "Bản quyền",
                      "Từ khóa", "Giấy phép"):
        assert furniture not in page.text


def test_metadata_title_author_date_site_canonical_language_captions():
    story = generated_story(3)
    page = pages.read(article_page(story, "Báo Mẫu", "https://bao.example/news/a.html#top"), "https://m.bao.example/a")
    assert (page.title, page.author, page.site) == (story.title, story.author, "Báo Mẫu")
    assert page.date == story.published.isoformat() and page.language == "vi"
    assert page.url == "https://bao.example/news/a.html"
    assert page.captions == ["Quang cảnh buổi lễ. Ảnh: Báo Mẫu"]


def test_relative_canonical_is_resolved_and_unusable_ones_fall_back_to_the_fetched_address():
    assert pages.canonical("/tin/a.html", "https://bao.example/x/y") == "https://bao.example/tin/a.html"
    assert pages.canonical("javascript:void(0)", "https://bao.example/x") == "https://bao.example/x"
    assert pages.canonical(None, None) is None


def test_bytes_in_windows_1258_are_decoded():
    story = generated_story(11)
    markup = article_page(story, "Báo Mẫu", None).replace('<meta charset="utf-8">',
                                                          '<meta charset="windows-1258">')
    page = pages.read(windows_1258(markup), "https://bao.example/a")
    assert page.title == story.title and page.text == tidy("\n\n".join(story.paragraphs))


def test_empty_and_furniture_only_pages_have_no_text():
    assert pages.read("", "https://bao.example/a").text == ""
    assert pages.read(b"   ", None).text == ""
    nav = "<html><body><header><nav><ul><li><a href='/'>Trang chủ</a></li></ul></nav></header></body></html>"
    assert pages.read(nav).text == ""


def test_a_date_without_a_time_stays_a_plain_date():
    markup = ("<html><head><title>T</title><meta property='article:published_time' content='2023-04-05'></head>"
              "<body><article><h1>T</h1><p>" + "Một đoạn văn đủ dài để được giữ lại trong bài báo này. " * 4
              + "</p></article></body></html>")
    assert pages.read(markup).date == "2023-04-05"


def test_article_from_page_takes_the_sign_off_as_author_when_the_page_names_none():
    page = pages.Page(title="T", text="Đoạn một của bài.\n\nĐoạn hai của bài.\n\nTheo TTXVN", url="https://a.vn/b")
    article = from_page(page, "web-1", "a.vn")
    assert (article.author, article.text, article.source, article.url) == (
        "TTXVN", "Đoạn một của bài.\n\nĐoạn hai của bài.", "a.vn", "https://a.vn/b")

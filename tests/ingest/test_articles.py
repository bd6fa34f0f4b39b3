"""Tests for qa.ingest.articles: the seed articles, every supported format, and bad input."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from qa.ingest.articles import Article, ArticleError, Problem, clean, load_file, load_folder
from qa.ingest.text import tidy

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

SEED_EXPECTED = {
    "000_812210d4bc6e6757": {
        "title": "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 6",
        "date": None,
        "author": None,
        "captions": ["Các đồng chí lãnh đạo tỉnh dự Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 6.",
                     "Đồng chí Nguyễn Đức Thanh, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy phát biểu kết luận "
                     "tại Hội nghị."],
        "lead": "Ngày 22-10, đồng chí Nguyễn Đức Thanh",
        "last": "Về triển khai thực hiện Chỉ thị 17-CT/TU của Ban Thường vụ Tỉnh ủy, đồng chí yêu cầu:",
    },
    "001_c3d5175d572a1b4d": {
        "title": "Đẩy mạnh xây dựng, chỉnh đốn Đảng toàn diện, theo đúng “5 rõ”",
        "date": "2022-01-26T14:00:11",
        "author": "HOÀNG BIÊN",
        "captions": ["Đồng chí Bí thư Tỉnh ủy Phạm Xuân Thăng chủ trì Hội nghị lần thứ 53 "
                     "của Ban Thường vụ Tỉnh ủy"],
        "lead": "Sáng 26.1, đồng chí Phạm Xuân Thăng",
        "last": "Cơ bản thống nhất với dự thảo kế hoạch,",
    },
    "002_8c712d888035ba10": {
        "title": "Hội nghị trực tuyến quán triệt các quy định, hướng dẫn của Trung ương",
        "date": "2019-11-07T16:07:00+07:00",
        "author": "Lê Hương",
        "captions": ["Các đại biểu tham dự hội nghị tại điểm cầu Tỉnh ủy",
                     "Phó Bí thư Thường trực Tỉnh ủy Phạm Minh Tấn phát biểu kết luận hội nghị."],
        "lead": "Sáng 7-11, Ban Thường vụ Tỉnh ủy",
        "last": "Để bảo đảm việc quán triệt, triển khai thực hiện",
    },
    "003_a0e886d188972728": {
        "title": "Hội nghị phổ biến, quán triệt và triển khai thực hiện Nghị quyết, Đề án của Ban Thường vụ "
                 "Tỉnh uỷ về công tác xây dựng đội ngũ cán bộ",
        "date": None,
        "author": "Văn Thiện - Trung tâm VHTT&TT",
        "captions": ["Các đại biểu dự Hội nghị tại điểm cầu huyện Chi Lăng",
                     "Đồng chí Bí thư Tỉnh ủy phát biểu kết luận Hội nghị"],
        "lead": "Sáng 15/11, Ban Thường vụ Tỉnh uỷ",
        "last": "Đồng chí nêu rõ, sau hội nghị này,",
    },
    "004_30c59f19e71aa1d8": {
        "title": "Tỉnh ủy tổng kết công tác xây dựng Đảng năm 2023; 5 năm (2021-2025) và Chỉ thị số 35-CT/TW "
                 "của Bộ Chính trị",
        "date": None,
        "author": None,
        "captions": ["Lãnh đạo tỉnh dự hội nghị. Ảnh: V.Nỷ",
                     "Đồng chí Nguyễn Đức Thanh, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy trao Bằng khen cho các "
                     "TCĐ đã hoàn thành xuất sắc nhiệm vụ năm 2023. Ảnh: Văn Nỷ",
                     "Đồng chí Nguyễn Đức Thanh, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy phát biểu tại hội nghị. "
                     "Ảnh: V.Nỷ"],
        "lead": "Ngày 7/3, đồng chí Nguyễn Đức Thanh",
        "last": "Dịp này, Tỉnh ủy tặng bằng khen cho 4 TCĐ và 15 ĐV hoàn thành xuất sắc nhiệm vụ năm 2023 và "
                "trong 5 năm (2019-2023).",
    },
}

NOT_IN_SEED_TEXT = [
    "Skip to main content", "Chế độ ban đêm", "In trang", "Xuất PDF", "Đọc nội dung", "-A A +A",
    "Quyết tâm thực hiện thắng lợi", ".jpg", "THỨ TƯ, 26/01/2022", "Cập nhật lúc", "(GMT+7)",
    "tại điểm cẩu Tỉnh ủy", "tại điểm cầu Tỉnh ủy", "Văn Thiện", "HOÀNG BIÊN", "Lê Hương", "Ảnh:",
]


def _seeds() -> dict[str, Article]:
    """Load the seed folder once per test (cheap) and index it by id."""
    articles, problems = load_folder(SEEDS)
    assert problems == []
    return {a.id: a for a in articles}


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a fixture file (text as UTF-8), creating sub-folders as needed."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _only(folder: Path) -> Article:
    """Load a folder expected to hold exactly one good article and no problems."""
    articles, problems = load_folder(folder)
    assert problems == []
    assert len(articles) == 1
    return articles[0]


def _paragraphs(article: Article) -> list[str]:
    """The article body split into its paragraphs."""
    return article.text.split("\n\n")


def test_seed_folder_loads_every_file_in_order():
    assert list(_seeds()) == sorted(SEED_EXPECTED)


@pytest.mark.parametrize("seed_id", sorted(SEED_EXPECTED))
def test_seed_metadata(seed_id):
    article, expected = _seeds()[seed_id], SEED_EXPECTED[seed_id]
    assert article.title == expected["title"]
    assert article.date == expected["date"]
    assert article.author == expected["author"]
    assert article.source == str(SEEDS / f"{seed_id}.txt")
    assert article.url is None


@pytest.mark.parametrize("seed_id", sorted(SEED_EXPECTED))
def test_seed_captions_are_pulled_out_of_the_text(seed_id):
    article, expected = _seeds()[seed_id], SEED_EXPECTED[seed_id]
    assert article.captions == expected["captions"]
    for caption in expected["captions"]:
        assert caption not in article.text
    assert len(set(article.captions)) == len(article.captions)


@pytest.mark.parametrize("seed_id", sorted(SEED_EXPECTED))
def test_seed_text_has_no_chrome_file_names_or_stray_punctuation(seed_id):
    article = _seeds()[seed_id]
    for fragment in NOT_IN_SEED_TEXT:
        assert fragment not in article.text
    assert article.title not in _paragraphs(article)
    for paragraph in _paragraphs(article):
        assert re.search(r"\w", paragraph), paragraph
        assert paragraph == paragraph.strip()


@pytest.mark.parametrize("seed_id", sorted(SEED_EXPECTED))
def test_seed_paragraphs_are_source_lines_unchanged(seed_id):
    article = _seeds()[seed_id]
    source_lines = set(tidy((SEEDS / f"{seed_id}.txt").read_text(encoding="utf-8")).split("\n"))
    paragraphs = _paragraphs(article)
    assert all(p in source_lines for p in paragraphs)
    assert paragraphs[0].startswith(SEED_EXPECTED[seed_id]["lead"])
    assert paragraphs[-1].startswith(SEED_EXPECTED[seed_id]["last"])


def test_seed_003_title_is_the_headline_not_the_slogan_banner():
    article = _seeds()["003_a0e886d188972728"]
    assert article.title.startswith("Hội nghị phổ biến, quán triệt")
    assert "Quyết tâm" not in article.title and "Quyết tâm thực hiện" not in article.text


@pytest.mark.parametrize("seed_id", ["000_812210d4bc6e6757", "004_30c59f19e71aa1d8"])
def test_seeds_without_byline_keep_their_last_body_paragraph(seed_id):
    article = _seeds()[seed_id]
    last_line = tidy((SEEDS / f"{seed_id}.txt").read_text(encoding="utf-8")).split("\n")[-1]
    assert len(last_line) > 100
    assert _paragraphs(article)[-1] == last_line
    assert article.author is None


def test_seed_002_near_duplicate_captions_are_kept_once_and_never_in_the_body():
    article = _seeds()["002_8c712d888035ba10"]
    assert "Phó Bí thư Thường trực Tỉnh ủy phát biểu kết luận hội nghị." not in _paragraphs(article)
    assert "Các đại biểu tham dự hội nghị tại điểm cẩu Tỉnh ủy" not in article.captions
    assert len(article.captions) == 2


def test_txt_article(tmp_path):
    _write(tmp_path, "bai-viet.txt", "Tiêu đề bài viết\n\n26-01-2022\n\nĐoạn mở đầu.\n\nĐoạn thứ hai.\n")
    article = _only(tmp_path)
    assert (article.id, article.title, article.date) == ("bai-viet", "Tiêu đề bài viết", "2022-01-26")
    assert article.text == "Đoạn mở đầu.\n\nĐoạn thứ hai."
    assert article.source == str(tmp_path / "bai-viet.txt")


def test_markdown_article_loses_all_markup(tmp_path):
    _write(tmp_path, "md-bai.md", "# Tiêu đề **đậm**\n\nĐoạn *một* có [liên kết](https://vd.vn/a) và\n"
                                  "![ảnh đẹp](anh.jpg) hình.\n\n## Mục nhỏ\n\n- ý một\n- ý hai\n")
    article = _only(tmp_path)
    assert (article.id, article.title) == ("md-bai", "Tiêu đề đậm")
    assert article.text == "Đoạn một có liên kết và hình.\n\nMục nhỏ\n\ný một\n\ný hai"
    assert not re.search(r"[#*\[\]()]|https|anh\.jpg|ảnh đẹp", article.text)


def test_markdown_extension_and_raw_html_is_text(tmp_path):
    _write(tmp_path, "x.markdown", "Tiêu đề\n=======\n\nNội dung <script>alert(1)</script> ở đây.\n")
    article = _only(tmp_path)
    assert article.title == "Tiêu đề"
    assert article.text == "Nội dung <script>alert(1)</script> ở đây."


HTML_PAGE = """<!doctype html>
<html><head><title>Tiêu đề trang | Báo Tỉnh</title>
<meta property="article:published_time" content="2019-11-07T16:07:00+07:00">
<meta name="author" content="Lê Hương">
<link rel="canonical" href="https://baotinh.vn/hoi-nghi.html">
<style>p { color: red }</style><script>var x = "<p>không</p>";</script></head>
<body><header><nav><a href="/">Trang chủ</a> <a href="/tin">Tin tức</a></nav></header>
<article><h1>Hội nghị   trực
tuyến</h1>
<p>Sáng 7-11, Ban Thường vụ Tỉnh ủy tổ chức <b>hội</b>nghị.<br>Dòng mới cùng đoạn.</p>
<figure><img src="a.jpg" alt="ảnh"><figcaption>Quang cảnh hội nghị. Ảnh: L.H</figcaption></figure>
<div>Đoạn có mã &lt;script&gt;alert(1)&lt;/script&gt; hiển thị.</div>
<!-- bình luận ẩn -->
<aside>Tin liên quan</aside><form><input name="q"><button>Tìm</button></form>
</article><footer>Bản quyền Báo Tỉnh</footer><noscript>Bật JavaScript</noscript></body></html>
"""


def test_html_article(tmp_path):
    _write(tmp_path, "trang.html", HTML_PAGE)
    article = _only(tmp_path)
    assert (article.id, article.title) == ("trang", "Hội nghị trực tuyến")
    assert article.date == "2019-11-07T16:07:00+07:00"
    assert article.author == "Lê Hương"
    assert article.url == "https://baotinh.vn/hoi-nghi.html"
    assert article.captions == ["Quang cảnh hội nghị. Ảnh: L.H"]
    assert _paragraphs(article) == ["Sáng 7-11, Ban Thường vụ Tỉnh ủy tổ chức hộinghị.", "Dòng mới cùng đoạn.",
                                    "Đoạn có mã <script>alert(1)</script> hiển thị."]


def test_htm_falls_back_to_title_time_and_og_url(tmp_path):
    _write(tmp_path, "b.htm", '<html><head><title>Tiêu đề từ thẻ title</title>'
                              '<meta property="og:url" content="https://vd.vn/b"></head><body>'
                              '<p><time datetime="2022-01-26T14:00:11">26/01</time></p>'
                              '<p>Nội dung chính.</p><p>Theo TTXVN</p></body></html>')
    article = _only(tmp_path)
    assert (article.title, article.date, article.url) == ("Tiêu đề từ thẻ title", "2022-01-26T14:00:11",
                                                          "https://vd.vn/b")
    assert article.text == "Nội dung chính."  # trafilatura drops the <time> line as page furniture
    assert article.author == "TTXVN"


def test_json_list_of_records(tmp_path):
    records = [{"id": "a1", "title": "Tiêu đề A", "text": "Skip to main content\nĐoạn A.\n\nĐoạn A2.",
                "url": "https://vd.vn/a1", "date": "2022-01-26T14:00:11", "author": "Tác giả A"},
               {"id": 7, "text": "Dòng đầu làm tiêu đề\n\nThân bài B."}]
    _write(tmp_path, "ds.json", json.dumps(records, ensure_ascii=False))
    articles, problems = load_folder(tmp_path)
    assert problems == []
    first, second = articles
    assert (first.id, first.title, first.text) == ("a1", "Tiêu đề A", "Đoạn A.\n\nĐoạn A2.")
    assert (first.url, first.date, first.author) == ("https://vd.vn/a1", "2022-01-26T14:00:11", "Tác giả A")
    assert (second.id, second.title, second.text) == ("7", "Dòng đầu làm tiêu đề", "Thân bài B.")
    assert first.source == second.source == str(tmp_path / "ds.json")


def test_json_single_record_keeps_its_own_metadata(tmp_path):
    record = {"id": "mot", "title": "Tiêu đề riêng", "date": "2019-11-07",
              "text": "Tiêu đề riêng\nTHỨ TƯ, 26/01/2022 14:00:11\n\nĐoạn duy nhất.\n\nNGUYỄN AN",
              "author": "Biên tập"}
    _write(tmp_path, "mot.json", json.dumps(record, ensure_ascii=False))
    article = _only(tmp_path)
    assert (article.id, article.title, article.date, article.author) == ("mot", "Tiêu đề riêng", "2019-11-07",
                                                                         "Biên tập")
    assert article.text == "Đoạn duy nhất."


def test_jsonl_records_carry_their_line_number(tmp_path):
    lines = [json.dumps({"id": "x", "title": "X", "text": "Thân X."}, ensure_ascii=False), "",
             json.dumps({"id": "y", "title": "Y", "text": "Thân Y.", "date": "26/01/2022"}, ensure_ascii=False)]
    _write(tmp_path, "nhieu.jsonl", "\n".join(lines) + "\n")
    articles, problems = load_folder(tmp_path)
    assert problems == []
    assert [(a.id, a.title, a.text, a.source) for a in articles] == [
        ("x", "X", "Thân X.", f"{tmp_path / 'nhieu.jsonl'}#1"),
        ("y", "Y", "Thân Y.", f"{tmp_path / 'nhieu.jsonl'}#3")]
    assert articles[1].date == "2022-01-26"


def test_script_text_in_txt_stays_literal(tmp_path):
    _write(tmp_path, "xss.txt", "Tiêu đề\n\nNội dung <script>alert(1)</script> còn nguyên.\n")
    assert _only(tmp_path).text == "Nội dung <script>alert(1)</script> còn nguyên."


def test_missing_folder_and_file_instead_of_folder(tmp_path):
    with pytest.raises(ArticleError, match="does not exist"):
        load_folder(tmp_path / "khong-co")
    file = _write(tmp_path, "a.txt", "Tiêu đề\n\nThân.")
    with pytest.raises(ArticleError, match="not a directory"):
        load_folder(file)
    assert issubclass(ArticleError, ValueError)


def test_folder_without_supported_files(tmp_path):
    with pytest.raises(ArticleError, match="no article files"):
        load_folder(tmp_path)
    _write(tmp_path, "anh.jpg", b"\xff\xd8")
    _write(tmp_path, ".an.txt", "Tiêu đề\n\nThân.")
    _write(tmp_path, ".git/b.txt", "Tiêu đề\n\nThân.")
    with pytest.raises(ArticleError, match=str(tmp_path)):
        load_folder(tmp_path)


def test_folder_is_read_recursively_in_sorted_order_skipping_hidden(tmp_path):
    _write(tmp_path, "b/z.txt", "Z\n\nThân Z.")
    _write(tmp_path, "a.txt", "A\n\nThân A.")
    _write(tmp_path, "c.TXT", "C\n\nThân C.")
    _write(tmp_path, "b/.nhap/y.txt", "Y\n\nThân Y.")
    _write(tmp_path, "ghi-chu.csv", "khong,phai")
    articles, problems = load_folder(tmp_path)
    assert problems == []
    assert [a.id for a in articles] == ["a", "z", "c"]


def test_non_utf8_file_is_reported_and_others_still_load(tmp_path):
    _write(tmp_path, "cu.txt", "Tiêu đề cũ\n\nThân bài.".encode("utf-16"))
    _write(tmp_path, "moi.txt", "\ufeffTiêu đề mới\n\nThân bài mới.")
    articles, problems = load_folder(tmp_path)
    assert [(a.id, a.title) for a in articles] == [("moi", "Tiêu đề mới")]
    assert [p.source for p in problems] == [str(tmp_path / "cu.txt")]
    assert "cu.txt" in problems[0].message and "UTF-8" in problems[0].message


def test_unreadable_file_is_reported(tmp_path):
    _write(tmp_path, "tot.txt", "Tốt\n\nThân.")
    os.symlink(tmp_path / "khong-ton-tai", tmp_path / "hong.txt")
    articles, problems = load_folder(tmp_path)
    assert [a.id for a in articles] == ["tot"]
    assert len(problems) == 1 and "hong.txt" in problems[0].message and "cannot be read" in problems[0].message


def test_malformed_jsonl_line_and_record_without_text(tmp_path):
    _write(tmp_path, "d.jsonl", '{"id": "a", "text": "Tiêu đề\\n\\nThân a."}\n{"id": "b", "text": \n'
                                '{"id": "c", "title": "C"}\n[1, 2]\n{"id": "e", "text": "E\\n\\nThân e."}\n')
    articles, problems = load_folder(tmp_path)
    assert [a.id for a in articles] == ["a", "e"]
    path = tmp_path / "d.jsonl"
    assert [p.source for p in problems] == [f"{path}#2", f"{path}#3", f"{path}#4"]
    assert "not valid JSON" in problems[0].message and f"{path} line 2" in problems[0].message
    assert '"text"' in problems[1].message and '"id"' in problems[2].message


def test_malformed_json_file(tmp_path):
    _write(tmp_path, "hong.json", '[{"id": "a", "text": "x"')
    _write(tmp_path, "tot.txt", "Tốt\n\nThân.")
    articles, problems = load_folder(tmp_path)
    assert [a.id for a in articles] == ["tot"]
    assert problems[0].source == str(tmp_path / "hong.json") and "not valid JSON" in problems[0].message


def test_empty_article_is_a_problem(tmp_path):
    _write(tmp_path, "rong.txt", "Skip to main content\nChỉ có tiêu đề\n\n.\n\nBT.jpg\n")
    _write(tmp_path, "trang.html", "<html><body><header><nav><ul><li><a href='/'>Trang chủ</a></li>"
                                   "<li><a href='/tin'>Tin tức</a></li></ul></nav></header>"
                                   "<footer>Bản quyền</footer></body></html>")
    articles, problems = load_folder(tmp_path)
    assert articles == []
    assert [p.source for p in problems] == [str(tmp_path / "rong.txt"), str(tmp_path / "trang.html")]
    assert all("no article text" in p.message for p in problems)


@pytest.mark.parametrize("bad_id", ["", "   ", "a/b", "a\\b", ".", "..", "x" * 201, "a\x01b", "a\nb"])
def test_unsafe_ids_are_rejected(tmp_path, bad_id):
    lines = [{"id": bad_id, "title": "T", "text": "Thân."}, {"id": "  tot  ", "title": "T", "text": "Thân."}]
    _write(tmp_path, "ids.jsonl", "\n".join(json.dumps(r) for r in lines))
    articles, problems = load_folder(tmp_path)
    assert [a.id for a in articles] == ["tot"]
    assert len(problems) == 1 and problems[0].source.endswith("ids.jsonl#1") and "id" in problems[0].message


def test_id_of_wrong_type_is_rejected(tmp_path):
    _write(tmp_path, "t.json", json.dumps([{"id": True, "text": "x"}, {"id": [1], "text": "x"}]))
    articles, problems = load_folder(tmp_path)
    assert articles == [] and len(problems) == 2
    assert all("string or an integer" in p.message and "t.json record" in p.message for p in problems)


def test_duplicate_ids_keep_the_first(tmp_path):
    _write(tmp_path, "a.md", "# Bản md\n\nThân md.")
    _write(tmp_path, "a.txt", "Bản txt\n\nThân txt.")
    _write(tmp_path, "r.jsonl", '{"id": "r", "text": "R1\\n\\nThân 1."}\n'
                                '{"id": "r", "text": "R2\\n\\nThân 2."}\n')
    articles, problems = load_folder(tmp_path)
    assert [(a.id, a.title) for a in articles] == [("a", "Bản md"), ("r", "R1")]
    assert [p.source for p in problems] == [str(tmp_path / "a.txt"), f"{tmp_path / 'r.jsonl'}#2"]
    assert "duplicate article id 'a'" in problems[0].message and "a.md" in problems[0].message


def test_load_file_reports_unsupported_type(tmp_path):
    path = _write(tmp_path, "x.csv", "a,b")
    assert load_file(path) == ([], [Problem(str(path), f"{path}: unsupported file type '.csv'; skipped")])


def test_unrecognised_record_date_is_reported_but_article_loads(tmp_path):
    _write(tmp_path, "d.json", json.dumps({"id": "d", "title": "D", "text": "Thân.", "date": "hôm qua"}))
    articles, problems = load_folder(tmp_path)
    assert [(a.id, a.date) for a in articles] == [("d", None)]
    assert "hôm qua" in problems[0].message and "d.json" in problems[0].message


def test_clean_does_not_invent_dates_or_eat_ordinary_paragraphs():
    raw = ("Tiêu đề\n\nNgày 22-10, đồng chí Nguyễn Văn A dự lễ khai mạc.\n\n"
           "Các đại biểu dự hội nghị đã thảo luận nhiều vấn đề. Hội nghị thống nhất cao.\n\n"
           "Dịp này, tỉnh trao tặng bằng khen cho 4 tập thể.\n\n"
           "Đồng chí Nguyễn Văn A phát biểu:\n\nKết quả năm nay rất đáng ghi nhận.")
    article = clean(raw, "vd")
    assert article.date is None and article.captions == [] and article.author is None
    assert article.id == "vd"
    assert _paragraphs(article) == raw.split("\n\n")[1:]


def test_clean_byline_and_source_credit():
    article = clean("Tiêu đề\n\nĐoạn một.\n\nĐoạn hai.\n\nMINH ANH\n\n(Theo TTXVN)", "vd")
    assert (article.author, article.text) == ("MINH ANH", "Đoạn một.\n\nĐoạn hai.")
    article = clean("Tiêu đề\n\nĐoạn một.\n\nTheo đó, hội nghị kết thúc", "vd")
    assert article.author is None and article.text.endswith("Theo đó, hội nghị kết thúc")


def test_clean_caption_heuristics():
    raw = ("Tiêu đề\n\nĐồng chí Bí thư dự lễ khai mạc.\n\nĐoạn giữa dài hơn một chút.\n\n"
           "Quang cảnh buổi lễ.\n\nẢnh minh họa\n\nanh-1.png\n\nCác em học sinh trong giờ học\n\n"
           "Quang cảnh buổi lễ.\n\nĐoạn cuối.")
    article = clean(raw, "vd")
    assert article.captions == ["Quang cảnh buổi lễ.", "Ảnh minh họa", "Các em học sinh trong giờ học"]
    assert _paragraphs(article) == ["Đồng chí Bí thư dự lễ khai mạc.", "Đoạn giữa dài hơn một chút.",
                                    "Đoạn cuối."]

"""Hostile article text is indexed or rejected cleanly, and what is indexed comes back as plain text."""
import io

import pytest

from conftest import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def upload(client, name: str, content: bytes):
    return client.post("/api/articles", headers=AUTH, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), name)})


def test_markup_is_kept_as_literal_text(admin_client):
    text = ("Bài có mã độc\n\nNgày 2-2, <script>alert(1)</script> và <img src=x onerror=alert(1)> "
            "cùng <iframe src=javascript:alert(1)></iframe> được đăng nguyên văn.")
    assert upload(admin_client, "markup.txt", text.encode()).status_code == 201
    article = admin_client.get("/api/articles/markup").get_json()
    assert "<script>alert(1)</script>" in article["text"] and "<img src=x onerror=alert(1)>" in article["text"]
    found = admin_client.get("/api/search", query_string={"q": "mã độc iframe nguyên văn"}).get_json()
    assert found["passages"][0]["article_id"] == "markup"
    admin_client.delete("/api/articles/markup", headers=AUTH)


def test_control_and_zero_width_characters_are_cleaned(admin_client):
    text = "Tiêu\x00 đề\u200d kiểm tra\n\nTỉnh\u200bủy họp\x07 về \u202ekiểm\u2060 tra\x1b ký tự điều khiển."
    assert upload(admin_client, "controls.txt", text.encode()).status_code == 201
    article = admin_client.get("/api/articles/controls").get_json()
    assert article["title"] == "Tiêu đề kiểm tra"
    assert article["text"] == "Tỉnh ủy họp về kiểm tra ký tự điều khiển."
    hits = admin_client.get("/api/search", query_string={"q": "Tỉnh ủy họp ký tự điều khiển"}).get_json()
    assert hits["passages"][0]["article_id"] == "controls"
    admin_client.delete("/api/articles/controls", headers=AUTH)


@pytest.mark.parametrize("name, content", [
    ("latin1.txt", "Tiêu đề\n\nNội dung tiếng Việt.".encode("cp1258", errors="replace")),
    ("mixed.txt", "Tiêu đề\n\n".encode() + "café crème".encode("latin-1") + " tiếp".encode()),
    ("utf16.txt", "Tiêu đề\n\nNội dung.".encode("utf-16")),
])
def test_other_encodings_are_refused_with_the_reason(admin_client, name, content):
    before = admin_client.get("/api/health").get_json()["index"]["version"]
    response = upload(admin_client, name, content)
    assert response.status_code == 422 and "UTF-8" in response.get_json()["error"]["message"]
    assert admin_client.get("/api/health").get_json()["index"]["version"] == before


def test_utf8_with_a_byte_order_mark_is_fine(admin_client):
    assert upload(admin_client, "bom.txt", "\ufeffBài có BOM\n\nNội dung có BOM ở đầu tệp.".encode()).status_code == 201
    assert admin_client.get("/api/articles/bom").get_json()["title"] == "Bài có BOM"
    admin_client.delete("/api/articles/bom", headers=AUTH)


def test_a_one_megabyte_line_is_split_and_indexed(admin_client):
    line = ("Đoạn văn dài không xuống dòng về kế hoạch phát triển kinh tế xã hội của tỉnh " * 12_500)[:1_000_000]
    response = upload(admin_client, "long_line.txt", f"Bài một dòng rất dài\n\n{line}".encode())
    assert response.status_code == 201, response.get_json()
    article = admin_client.get("/api/articles/long_line").get_json()
    assert len(article["text"]) == len(line.strip())
    assert len(article["passages"]) > 500 and all(len(p["text"]) <= 1500 for p in article["passages"])
    assert all(article["text"][p["start"]:p["end"]] == p["text"] for p in article["passages"])
    admin_client.delete("/api/articles/long_line", headers=AUTH)

"""Changing the corpus while serving: authorisation, uploads, replace/remove, and nothing lost on bad input."""
import io
import json
import urllib.error
import urllib.request
from dataclasses import replace

import pytest

from qa.index import shards, versions as index_mod
from qa.ingest.articles import load_folder

from conftest import ADMIN_TOKEN as TOKEN, SEEDS, start_server, stop_server

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEW = {"id": "new_article", "title": "Hội nghị về chuyển đổi số tỉnh Bình Minh",
       "text": "Ngày 12-3, Tỉnh ủy Bình Minh tổ chức hội nghị về chuyển đổi số. Hội nghị đặt mục tiêu "
               "đến năm 2027 có 90% thủ tục hành chính được thực hiện trực tuyến toàn trình.",
       "date": "2024-03-12", "author": "Minh An", "url": "https://example.org/chuyen-doi-so"}


def version(client) -> str:
    return client.get("/api/health").get_json()["index"]["version"]


def test_changes_are_off_without_a_configured_token(client):
    response = client.post("/api/articles", json=NEW)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "changes_disabled"
    assert client.delete("/api/articles/000_812210d4bc6e6757").status_code == 403


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_missing_or_wrong_token_is_401(admin_client, headers):
    before = version(admin_client)
    response = admin_client.post("/api/articles", json=NEW, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert admin_client.delete("/api/articles/000_812210d4bc6e6757", headers=headers).status_code == 401
    assert version(admin_client) == before


def test_add_then_ask_then_remove(admin_client):
    before = version(admin_client)
    response = admin_client.post("/api/articles", json=NEW, headers=AUTH)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["added"] == ["new_article"] and body["version"] != before
    assert body["counts"]["embedded"] <= 2 and body["counts"]["reused"] > 0
    question = "Bao nhiêu phần trăm thủ tục hành chính được thực hiện trực tuyến toàn trình đến năm 2027?"
    answer = admin_client.post("/api/ask", json={"question": question}).get_json()
    assert answer["passages"][0]["article_id"] == "new_article" and "90%" in answer["answer"]["text"]
    article = admin_client.get("/api/articles/new_article").get_json()
    assert article["author"] == "Minh An" and article["url"] == NEW["url"]
    removed = admin_client.delete("/api/articles/new_article", headers=AUTH)
    assert removed.status_code == 200 and removed.get_json()["removed"] == "new_article"
    assert admin_client.get("/api/articles/new_article").status_code == 404
    assert all(a["id"] != "new_article" for a in admin_client.get("/api/articles").get_json())


def test_replace_and_refuse_duplicates(admin_client):
    admin_client.post("/api/articles", json=NEW, headers=AUTH)
    before = version(admin_client)
    refused = admin_client.post("/api/articles?replace=false", json=NEW, headers=AUTH)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "duplicate_article"
    assert version(admin_client) == before
    changed = dict(NEW, text=NEW["text"] + " Kinh phí thực hiện là 120 tỷ đồng.")
    assert admin_client.post("/api/articles", json=changed, headers=AUTH).status_code == 201
    assert "120 tỷ đồng" in admin_client.get("/api/articles/new_article").get_json()["text"]
    admin_client.delete("/api/articles/new_article", headers=AUTH)


@pytest.mark.parametrize("filename, content", [
    ("bai-viet.txt", "Tiêu đề bài kiểm tra tải lên\n\nNgày 2-4, Ban Thường vụ Tỉnh ủy họp về công tác tải lên tệp."),
    ("trang.html", "<html><head><title>Trang</title></head><body><h1>Bài HTML tải lên</h1>"
                   "<p>Ngày 3-4, hội nghị bàn về <b>tải lên</b> tệp HTML.</p><script>alert(1)</script></body></html>"),
    ("records.jsonl", json.dumps({"id": "jsonl_one", "title": "Bản ghi JSONL", "text": "Nội dung bản ghi tải lên."},
                                 ensure_ascii=False)),
])
def test_file_uploads(admin_client, filename, content):
    data = {"file": (io.BytesIO(content.encode("utf-8")), filename)}
    response = admin_client.post("/api/articles", data=data, headers=AUTH, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    added = response.get_json()["added"]
    article = admin_client.get(f"/api/articles/{added[0]}").get_json()
    assert "<script>" not in article["text"] and "tải lên" in article["text"].lower() + article["title"].lower()
    admin_client.delete(f"/api/articles/{added[0]}", headers=AUTH)


def test_upload_names_cannot_leave_a_private_folder(admin_client, admin_config, tmp_path):
    data = {"file": (io.BytesIO("Tiêu đề\n\nNội dung đường dẫn.".encode()), "../../../../tmp/escape_attempt.txt")}
    response = admin_client.post("/api/articles", data=data, headers=AUTH, content_type="multipart/form-data")
    assert response.status_code == 201 and response.get_json()["added"] == ["escape_attempt"]
    written = [p for p in admin_config.index_dir.parent.rglob("escape_attempt*")]
    assert written == []
    admin_client.delete("/api/articles/escape_attempt", headers=AUTH)


@pytest.mark.parametrize("kwargs, status, code", [
    (dict(data=b"", content_type="application/json"), 400, "invalid_json"),
    (dict(data=b"{oops", content_type="application/json"), 400, "invalid_json"),
    (dict(data=b'"just text"', content_type="application/json"), 400, "invalid_body"),
    (dict(json={"id": "x"}), 422, "invalid_article"),
    (dict(json={"id": "x", "text": ""}), 422, "invalid_article"),
    (dict(json={"id": "../etc/passwd", "text": "Nội dung."}), 422, "invalid_article"),
    (dict(json={"id": "x", "text": 5}), 422, "invalid_article"),
    (dict(json=[NEW, {"id": "broken"}]), 422, "invalid_article"),
    (dict(data="id=x", content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
    (dict(data={"file": (io.BytesIO(b"MZ\x90\x00binary"), "tool.exe")}, content_type="multipart/form-data"),
     415, "unsupported_format"),
    (dict(data={"file": (io.BytesIO(b"\xff\xfe\x00bad"), "latin.txt")}, content_type="multipart/form-data"),
     422, "invalid_article"),
    (dict(data={"file": (io.BytesIO(b""), "empty.txt")}, content_type="multipart/form-data"), 422, "invalid_article"),
    (dict(data={"file": (io.BytesIO(b"{not json"), "bad.json")}, content_type="multipart/form-data"),
     422, "invalid_article"),
    (dict(data={"other": "x"}, content_type="multipart/form-data"), 400, "missing_file"),
])
def test_invalid_uploads_change_nothing(admin_client, kwargs, status, code):
    before = version(admin_client)
    response = admin_client.post("/api/articles", headers=AUTH, **kwargs)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code and response.get_json()["error"]["message"]
    assert version(admin_client) == before


def test_too_large_upload_is_413(admin_client, admin_config):
    before = version(admin_client)
    big = b"a" * (admin_config.max_upload_bytes + 1)
    response = admin_client.post("/api/articles", headers=AUTH, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(big), "big.txt")})
    assert response.status_code == 413 and version(admin_client) == before


def test_remove_unknown_is_404(admin_client):
    before = version(admin_client)
    response = admin_client.delete("/api/articles/no_such_article", headers=AUTH)
    assert response.status_code == 404 and version(admin_client) == before


def test_cli_add_and_remove(admin_config, runner, tmp_path):
    path = tmp_path / "cli_article.txt"
    path.write_text("Bài thêm bằng dòng lệnh\n\nNgày 9-9, hội nghị thêm bài bằng dòng lệnh đã diễn ra.",
                    encoding="utf-8")
    before = index_mod.load(admin_config).manifest["counts"]["articles"]
    code, out, _ = runner("add", path, "--index", admin_config.index_dir)
    assert code == 0 and "added 1 articles" in out and "1 embedded" in out
    assert index_mod.load(admin_config).store.article("cli_article") is not None
    code, _, err = runner("add", path, "--no-replace", "--index", admin_config.index_dir)
    assert code == 2 and "already exists" in err
    code, out, _ = runner("remove", "cli_article", "--index", admin_config.index_dir)
    assert code == 0 and index_mod.load(admin_config).manifest["counts"]["articles"] == before
    code, _, err = runner("remove", "cli_article", "--index", admin_config.index_dir)
    assert code == 2 and "no article with id" in err


@pytest.fixture
def seed_set(base_config, embedder, tmp_path):
    """The seeds as a set of 2 shards (shard-0 holds one article alone), changes turned on."""
    config = replace(base_config, index_dir=tmp_path / "set", admin_token=TOKEN, rate_limit="")
    shards.build(config, load_folder(SEEDS)[0], embedder, 2, progress=False)
    return config


def test_cli_add_and_remove_on_a_set_of_shards(seed_set, runner, tmp_path):
    path = tmp_path / "cli_article.txt"
    path.write_text("Bài thêm bằng dòng lệnh\n\nNgày 9-9, hội nghị thêm bài bằng dòng lệnh đã diễn ra.",
                    encoding="utf-8")
    code, out, err = runner("add", path, "--index", seed_set.index_dir)
    assert code == 0 and "added 1 articles" in out and "6 articles" in out and "1 embedded" in out, err
    assert shards.load(seed_set).store.article("cli_article") is not None
    alone = next(a.id for a in load_folder(SEEDS)[0] if shards.shard_of(a.id, 2) == 0)
    before = shards.current(seed_set)[1]["version"]
    code, _, err = runner("remove", alone, "--index", seed_set.index_dir)
    assert code == 2 and "would leave shard-0 with no article" in err
    code, _, err = runner("remove", "no_such_article", "--index", seed_set.index_dir)
    assert code == 2 and "no article with id" in err and shards.current(seed_set)[1]["version"] == before
    code, out, _ = runner("remove", "cli_article", "--index", seed_set.index_dir)
    assert code == 0 and "removed 1 articles" in out and "0 embedded" in out
    assert shards.current(seed_set)[1]["counts"]["articles"] == 5


def _call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    """Status and JSON of one request to a real server, with the operator's token."""
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json", **AUTH}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_server_over_a_set_of_shards_takes_and_drops_articles(seed_set, base_config):
    proc, url = start_server(seed_set.index_dir, SEEDS, base_config.model_cache, env={"QA_ADMIN_TOKEN": TOKEN})
    try:
        assert _call(url + "/api/health")[1]["index"]["format"] == shards.FORMAT
        status, added = _call(url + "/api/articles", "POST", NEW)
        assert status == 201 and added["counts"]["articles"] == 6 and added["counts"]["embedded"] <= 2, added
        question = "Bao nhiêu phần trăm thủ tục hành chính được thực hiện trực tuyến toàn trình đến năm 2027?"
        answer = _call(url + "/api/ask", "POST", {"question": question})[1]
        assert answer["index_version"] == added["version"] and "90%" in answer["answer"]["text"]
        assert answer["passages"][0]["article_id"] == "new_article" and "partial" not in answer
        status, refused = _call(url + "/api/articles?replace=false", "POST", NEW)
        assert status == 409 and refused["error"]["code"] == "duplicate_article"
        assert _call(url + "/api/articles/no_such_article", "DELETE")[0] == 404
        status, removed = _call(url + "/api/articles/new_article", "DELETE")
        assert status == 200 and removed["counts"]["articles"] == 5
        assert _call(url + "/api/articles/new_article")[0] == 404
        assert _call(url + "/api/health")[1]["index"]["version"] == removed["version"]
    finally:
        stop_server(proc)
    assert shards.current(seed_set)[1]["version"] == removed["version"]
    assert not list((seed_set.index_dir / index_mod.VERSIONS).glob(".tmp-*"))


def test_cached_answers_follow_a_new_version(admin_client):
    question = "Kinh phí chuyển đổi số tỉnh Bình Minh là bao nhiêu?"
    ask = lambda: admin_client.post("/api/ask", json={"question": question})
    first, again = ask().get_json(), ask().get_json()
    assert again["cached"] and not first["cached"] and again["index_version"] == first["index_version"]
    admin_client.post("/api/articles", json=dict(NEW, text=NEW["text"] + " Kinh phí là 80 tỷ đồng."), headers=AUTH)
    after = ask().get_json()
    assert not after["cached"] and after["index_version"] != first["index_version"]
    assert after["passages"][0]["article_id"] == "new_article"
    admin_client.delete("/api/articles/new_article", headers=AUTH)


def test_sources_need_the_token(client, admin_client):
    assert client.get("/api/sources").status_code == 403
    assert admin_client.post("/api/sources", json={"url": "https://example.org/feed.rss"}).status_code == 401
    assert admin_client.get("/api/sources", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_register_list_and_remove_a_source(admin_client):
    first = admin_client.post("/api/sources", json={"url": "https://example.org/feed.rss"}, headers=AUTH)
    assert first.status_code == 201, first.get_json()
    source = first.get_json()
    assert source["url"] == "https://example.org/feed.rss" and source["last_run"] is None
    again = admin_client.post("/api/sources", json={"url": "https://example.org/feed.rss"}, headers=AUTH)
    assert again.status_code == 200 and again.get_json()["id"] == source["id"]
    listed = admin_client.get("/api/sources", headers=AUTH).get_json()
    assert [s["id"] for s in listed] == [source["id"]]
    removed = admin_client.delete(f"/api/sources/{source['id']}", headers=AUTH)
    assert removed.status_code == 200 and removed.get_json() == {"removed": source["id"]}
    assert admin_client.get("/api/sources", headers=AUTH).get_json() == []
    missing = admin_client.delete(f"/api/sources/{source['id']}", headers=AUTH)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "source_not_found"


@pytest.mark.parametrize("body, status, code", [
    ({"url": "ftp://example.org/feed"}, 422, "refused_url"),
    ({"url": "http://127.0.0.1:9/feed.rss"}, 422, "refused_url"),
    ({"url": "http://10.1.2.3/feed.rss"}, 422, "refused_url"),
    ({"url": ""}, 400, "invalid_url"),
    ({"link": "https://example.org"}, 400, "invalid_url"),
    (["https://example.org"], 400, "invalid_url"),
])
def test_bad_or_private_source_urls_are_refused(admin_client, body, status, code):
    response = admin_client.post("/api/sources", json=body, headers=AUTH)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert admin_client.get("/api/sources", headers=AUTH).get_json() == []

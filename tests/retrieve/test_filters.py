"""Filters: checked with messages naming the field, and applied to an index's rows as a mask."""
from datetime import date

import numpy as np
import pytest

from qa.retrieve import filters as filters_mod
from qa.retrieve.filters import FilterError, Filters, parse

DATED = {"001_c3d5175d572a1b4d": "2022-01-26", "002_8c712d888035ba10": "2019-11-07"}


def test_parse_reads_every_field():
    found = parse({"date_from": "2019-01-01", "date_to": "2022-12-31", "sources": ["baotinh.vn", "baotinh.vn"],
                   "articles": "tk-2021", "language": "VI"})
    assert found == Filters(date(2019, 1, 1), date(2022, 12, 31), ("baotinh.vn",), ("tk-2021",), "vi")
    assert parse(None) == Filters() and not Filters() and parse({"date_from": None}) == Filters()


@pytest.mark.parametrize("raw, field, words", [
    ({"date_from": "2023-13-01"}, "date_from", "not an ISO date"),
    ({"date_to": "20230101"}, "date_to", "not an ISO date"),
    ({"date_to": ""}, "date_to", "not an ISO date"),
    ({"date_from": "2024-01-01", "date_to": "2023-01-01"}, "date_from", "is after date_to"),
    ({"since": "2023-01-01"}, "since", "unknown filter"),
    ({"sources": ["a"] * 101}, "sources", "at most 100"),
    ({"articles": [1, 2]}, "articles", "list of non-empty strings"),
    ({"sources": [" "]}, "sources", "list of non-empty strings"),
    ({"language": "vi-VN"}, "language", "language code"),
    (["date_from"], "filters", "must be an object"),
])
def test_bad_filters_name_their_field(raw, field, words):
    with pytest.raises(FilterError, match=words) as caught:
        parse(raw)
    assert caught.value.field == field


def test_date_filter_masks_rows_and_counts_undated_articles(service):
    catalogue = filters_mod.catalogue(service.index)
    assert filters_mod.catalogue(service.index) is catalogue
    rows, undated = catalogue.mask(parse({"date_from": "2020-01-01"}))
    kept = {p["article_id"] for p in service.index.store.passages(np.flatnonzero(rows).tolist())}
    assert kept == {"001_c3d5175d572a1b4d"} and undated == 3
    rows, undated = catalogue.mask(parse({"articles": list(DATED)}))
    kept = {p["article_id"] for p in service.index.store.passages(np.flatnonzero(rows).tolist())}
    assert kept == set(DATED) and undated == 0
    assert not catalogue.mask(parse({"sources": ["nowhere.example"]}))[0].any()


def test_sources_match_the_host_of_the_address_or_the_source_name():
    summaries = [{"id": "a", "title": "A", "date": None, "url": "https://www.baotinh.vn/x.html", "source": "f.jsonl"},
                 {"id": "b", "title": "B", "date": None, "url": None, "source": "Báo Tỉnh"}]
    catalogue = filters_mod.Catalogue(2, {"a": np.array([0]), "b": np.array([1])}, summaries)
    for wanted, rows in [("baotinh.vn", [True, False]), ("https://baotinh.vn/", [True, False]),
                         ("báo tỉnh", [False, True]), ("other.vn", [False, False])]:
        assert catalogue.mask(parse({"sources": [wanted]}))[0].tolist() == rows


def test_listing_filters_searches_titles_and_sorts(service):
    summaries = service.index.store.summaries()
    by_date = filters_mod.listed(summaries, None, "", "date")
    assert [s["id"] for s in by_date[:2]] == ["001_c3d5175d572a1b4d", "002_8c712d888035ba10"]
    assert [s["id"] for s in filters_mod.listed(summaries, None, "hoi nghi truc tuyen")] == ["002_8c712d888035ba10"]
    titles = [s["title"] for s in filters_mod.listed(summaries, None, "", "title")]
    assert len(titles) == 5 and titles[0].startswith("Đẩy mạnh") and titles[-1].startswith("Tỉnh ủy")
    with pytest.raises(FilterError, match="sort must be one of"):
        filters_mod.listed(summaries, None, "", "size")

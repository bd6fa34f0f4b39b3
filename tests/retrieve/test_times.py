"""Times named in questions: explicit, relative to a given today, recency; and what is not a time."""
from datetime import date

import pytest

from qa.retrieve.times import named_year, understand

TODAY = date(2025, 6, 15)


@pytest.mark.parametrize("question, start, end, text", [
    ("Hội nghị tổng kết năm 2023 do ai chủ trì?", "2023-01-01", "2023-12-31", "năm 2023"),
    ("hoi nghi tong ket nam 2023 do ai chu tri", "2023-01-01", "2023-12-31", "nam 2023"),
    ("Hội nghị tháng 11/2019 có bao nhiêu điểm cầu?", "2019-11-01", "2019-11-30", "tháng 11/2019"),
    ("Hội nghị tháng 11 năm 2019", "2019-11-01", "2019-11-30", "tháng 11 năm 2019"),
    ("Ngày 7/3 có sự kiện gì?", "2025-03-07", "2025-03-07", "Ngày 7/3"),
    ("Ngày 22-10-2021 ai chủ trì?", "2021-10-22", "2021-10-22", "22-10-2021"),
    ("quý I/2023 tăng trưởng bao nhiêu", "2023-01-01", "2023-03-31", "quý I/2023"),
    ("kết quả quý III", "2025-07-01", "2025-09-30", "quý III"),
    ("Who chaired it in 2022?", "2022-01-01", "2022-12-31", "in 2022"),
    ("GRDP in November 2019", "2019-11-01", "2019-11-30", "November 2019"),
    ("Q3 2021 results", "2021-07-01", "2021-09-30", "Q3 2021"),
    ("Hôm qua ai phát biểu?", "2025-06-14", "2025-06-14", "Hôm qua"),
    ("Tuần trước hội nghị bàn gì?", "2025-06-02", "2025-06-08", "Tuần trước"),
    ("tháng này có hội nghị nào", "2025-06-01", "2025-06-30", "tháng này"),
    ("Hội nghị năm ngoái do ai chủ trì?", "2024-01-01", "2024-12-31", "năm ngoái"),
    ("nam ngoai ai chu tri", "2024-01-01", "2024-12-31", "nam ngoai"),
    ("What happened last week?", "2025-06-02", "2025-06-08", "last week"),
    ("news of this year", "2025-01-01", "2025-12-31", "this year"),
    ("Hội nghị tháng 11 bàn gì?", "2024-11-01", "2024-11-30", "tháng 11"),
])
def test_times_become_ranges(question, start, end, text):
    found = understand(question, TODAY)
    assert (found.start.isoformat(), found.end.isoformat(), found.text, found.recency) == (start, end, text, False)


@pytest.mark.parametrize("question, text", [("tin mới nhất về hội nghị", "mới nhất"),
                                            ("hoi nghi gan day nhat", "gan day nhat"),
                                            ("What is the latest GRDP figure?", "latest")])
def test_recency_words_ask_for_the_newest(question, text):
    found = understand(question, TODAY)
    assert found.recency and found.start is None and found.text == text


@pytest.mark.parametrize("question", ["Xây dựng đội ngũ cán bộ đến năm 2025 như thế nào?",
                                      "Ai chủ trì hội nghị lần thứ 53?", "2000 người dự hội nghị",
                                      "Chỉ thị 17-CT/TU nói gì?", "plans until 2030", "Ngày 31/2 có gì?"])
def test_what_is_not_a_time(question):
    assert understand(question, TODAY) is None


def test_the_time_words_come_out_of_the_question():
    found = understand("Hội nghị năm 2023 do ai chủ trì?", TODAY)
    assert found.remove_from("Hội nghị năm 2023 do ai chủ trì?") == "Hội nghị do ai chủ trì?"
    assert found.to_dict() == {"from": "2023-01-01", "to": "2023-12-31", "recency": False, "text": "năm 2023",
                               "from_question": True}


def test_a_title_names_the_year_it_is_about():
    assert named_year("Tổng kết công tác xây dựng Đảng năm 2022, triển khai nhiệm vụ năm 2023") == 2022
    assert named_year("Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 11") is None
    assert named_year("Kế hoạch đến năm 2030") is None

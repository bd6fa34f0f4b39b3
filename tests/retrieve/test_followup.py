import json
from pathlib import Path

import pytest

from qa.retrieve.followup import is_follow_up, resolve

DATA = Path(__file__).resolve().parents[1] / "data"


def _history(*questions):
    turns = []
    for q in questions:
        turns += [{"role": "user", "content": q}, {"role": "assistant", "content": "Câu trả lời. [1]"}]
    return turns


def test_pronoun_follow_up_carries_the_previous_topic():
    resolved = resolve("Văn bản đó do cơ quan nào ban hành?",
                       _history("Hướng dẫn số 26-HD/BTCTW xác định nhiệm vụ quan trọng nào?"))
    assert resolved.startswith("Văn bản đó do cơ quan nào ban hành?")
    assert "26-HD/BTCTW" in resolved


@pytest.mark.parametrize("question", ["Còn năm 2030 thì sao?", "ông ấy là ai?", "what about the second one?",
                                      "Who chaired it?", "Ai chủ trì?", "Ngày nào?", "con pho bi thu thi sao?"])
def test_follow_ups_are_recognised(question):
    assert is_follow_up(question)


@pytest.mark.parametrize("question", [
    "Hội nghị quán triệt Nghị quyết 116 và Đề án 08 được kết nối đến bao nhiêu điểm cầu?",
    "When was Notice No. 165-TB/UBKTTW of the Central Inspection Commission issued?",
    "huong dan so 21-HD/BTCTW cua ban to chuc trung uong ve noi dung gi?",
])
def test_standalone_questions_are_not_polluted(question):
    assert resolve(question, _history("Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?")) == question


def test_without_history_nothing_changes():
    assert resolve("Ai chủ trì?", []) == "Ai chủ trì?"


def test_chain_of_follow_ups_keeps_the_first_topic():
    resolved = resolve("Ban hành ngày nào?", _history("Nghị quyết số 128/NQ-CP là của cơ quan nào?",
                                                       "Tên đầy đủ của nghị quyết đó là gì?"))
    assert "128/NQ-CP" in resolved


def test_assistant_turns_and_blank_turns_are_ignored():
    history = [{"role": "assistant", "content": "Xin chào"}, {"role": "user", "content": "   "},
               {"role": "user", "content": "Chỉ thị 17-CT/TU về việc gì?"}]
    assert "17-CT/TU" in resolve("Nó được ban hành ngày nào?", history)


def test_conversation_set_last_turns_reach_the_right_article(service):
    lines = (DATA / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    conversations = [json.loads(line) for line in lines]
    assert len(conversations) >= 15
    right = 0
    for c in conversations:
        result = service.ask(c["turns"][-1], 5, _history(*c["turns"][:-1]))
        right += result["passages"][0]["article_id"] == c["article_id"]
    assert right / len(conversations) >= 0.8

"""Follow-up questions: share of conversations whose last turn is answered from the expected article.

    python bench/followups.py [--index index]

Runs tests/data/conversations.jsonl against an index of the seeds, with the conversation's history
and, for contrast, the last turn alone. "Answered from" = the first citation's article (or, when the
service finds no answer, counted as a miss); the top passage's article is reported too.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Config  # noqa: E402
from qa.service import Service  # noqa: E402


def history(turns: list[str]) -> list[dict]:
    """Earlier user turns, each followed by a placeholder assistant turn, as the chat sends them."""
    return [t for q in turns for t in ({"role": "user", "content": q}, {"role": "assistant", "content": "…"})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    args = parser.parse_args()
    service = Service(replace(Config.from_env(), index_dir=args.index))
    conversations = [json.loads(line) for line in
                     (ROOT / "tests" / "data" / "conversations.jsonl").read_text(encoding="utf-8").splitlines()]
    for label, use_history in (("with history", True), ("last turn alone", False)):
        cited = top = 0
        by_kind: dict[str, list[int]] = {}
        for c in conversations:
            result = service.ask(c["turns"][-1], 5, history(c["turns"][:-1]) if use_history else [])
            ok = bool(result["answer"]) and result["answer"]["citations"][0]["article_id"] == c["article_id"]
            cited += ok
            top += result["passages"][0]["article_id"] == c["article_id"]
            by_kind.setdefault(c["kind"], []).append(ok)
        kinds = ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in by_kind.items())
        print(f"{label}: answered from the right article {cited}/{len(conversations)} "
              f"({cited / len(conversations):.2f}; {kinds}); top passage from it {top}/{len(conversations)}")


if __name__ == "__main__":
    main()

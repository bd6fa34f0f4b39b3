"""Questions about an article itself — who wrote it, when it was published, where, its title — answered
from the article's metadata (byline, date, address, title) instead of from its sentences.

A question names the article ("bài viết", "bài báo", "the article", "it") beside the field it asks
for; "Ai viết Chỉ thị 35?" asks about a directive, not about an article, and is left to the sentences.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from qa.ingest.text import fold

_ARTICLE = r"(bai (bao|viet|tin)|ban tin|bai|tin (nay|do|tren)|article|story|report|piece|news item)"
_GAP = r"(\s+\S+){0,20}?\s+"  # the article's topic may stand between its noun and what is asked of it
_FIELDS = {
    "author": [rf"\b(ai|nguoi nao) (da |la nguoi )?(viet|dua tin|thuc hien) {_ARTICLE}",
               rf"\btac gia (cua |viet )?{_ARTICLE}", rf"\b{_ARTICLE}{_GAP}(la )?(do|cua) ai( viet| thuc hien)?\b",
               rf"\b{_ARTICLE}{_GAP}(do )?ai viet\b", r"\bbut danh\b",
               rf"\bwho (wrote|authored|is the author of|was the author of|reported) (the |this |that )?{_ARTICLE}",
               rf"\b(author|byline|writer) of (the |this |that )?{_ARTICLE}", r"\bwho wrote (it|this|that)\b"],
    "date": [rf"\b{_ARTICLE}{_GAP}(duoc )?(dang|dang tai|xuat ban|dang tin|phat hanh|viet)( vao| luc)? "
             r"(ngay nao|khi nao|luc nao|bao gio|nam nao|thang nao|hom nao)",
             rf"\b(ngay|thoi gian|thoi diem) (dang|xuat ban|dang tai)( cua)? {_ARTICLE}",
             rf"\b(khi nao|ngay nao|bao gio|luc nao) {_ARTICLE}{_GAP}(duoc )?(dang|xuat ban|dang tai)",
             rf"\bwhen (was|is) (the |this |that )?{_ARTICLE}{_GAP}(published|posted|written|dated|released)",
             r"\bwhen was (it|this|that) (published|posted)", r"\b(publication|publishing) date\b",
             rf"\bwhat date (was|is) (the |this )?{_ARTICLE}"],
    "source": [r"\b(bao|trang|trang web|website|nguon|co quan bao chi) nao (da )?"
               r"(dang|dua|dang tai|xuat ban|phat hanh)",
               rf"\b{_ARTICLE}{_GAP}(duoc dang |dang |lay |trich )?(cua|tu|tren|o) "
               r"(bao|trang|trang web|nguon) (nao|gi)\b",
               rf"\bnguon (cua |goc cua )?{_ARTICLE}",
               r"\b(which|what) (newspaper|site|website|source|outlet|paper|publication) (published|ran|carried|is)",
               rf"\b(source|publisher|outlet) of (the |this |that )?{_ARTICLE}",
               rf"\bwhere (was|is) (the |this |that )?{_ARTICLE}{_GAP}(published|from)"],
    "title": [rf"\b(tieu de|ten|tua de|tit) (cua )?{_ARTICLE}", rf"\b{_ARTICLE}{_GAP}(co )?(tieu de|ten|tua) (la )?gi",
              rf"\b(title|headline|name) of (the |this |that )?{_ARTICLE}",
              rf"\bwhat (is|was) (the |this |that )?{_ARTICLE}{_GAP}(called|titled)"],
}
_PATTERNS = {name: [re.compile(p) for p in patterns] for name, patterns in _FIELDS.items()}
LABELS = {"vi": {"author": "Tác giả", "date": "Ngày đăng", "source": "Nguồn", "title": "Tiêu đề"},
          "en": {"author": "Author", "date": "Published", "source": "Source", "title": "Title"}}


def field(question: str) -> str | None:
    """The metadata field a question asks for about an article, or None for a question about its content."""
    folded = fold(question.lower())
    return next((name for name, patterns in _PATTERNS.items() if any(p.search(folded) for p in patterns)), None)


def value(article: dict, name: str) -> str | None:
    """The article's value for a field: byline, ISO date (the day), site of its address, title."""
    if name == "date":
        return (article.get("date") or "")[:10] or None
    if name == "source":
        return urlsplit(article.get("url") or "").hostname
    found = article.get(name)
    return found.strip() if isinstance(found, str) and found.strip() else None


def sentence(name: str, found: str, language: str) -> str:
    """The line shown as the answer: "Tác giả: Lê Hương"."""
    return f"{LABELS['en' if language != 'vi' else 'vi'][name]}: {found}"

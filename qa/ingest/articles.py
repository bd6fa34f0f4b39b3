"""Load news articles from a folder of scraped text, Markdown, HTML or JSON and clean them.

Scraped text, Markdown and JSON records end in the same scraped-text cleaner (`clean`), which takes
page chrome, image file names, photo captions, the date line and the byline out of the body, so that
the text an answer is drawn from is only what the journalist wrote. HTML pages are read by
trafilatura (qa/ingest/pages.py), as pages from the web are. A bad file becomes a `Problem`, never a crash.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString
from markdown_it import MarkdownIt

from qa.ingest import pages
from qa.ingest.text import tidy, words

_HTML_BLOCKS = ["p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
                "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr", "td", "th", "figure", "hr",
                "address", "center", "caption"]
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")

_CHROME_WORDS = ["skip to main content", "skip to content", "skip to navigation", "chế độ ban đêm",
                 "in trang", "in bài viết", "in bài", "bản in", "xuất pdf", "tải pdf", "đọc nội dung",
                 "nghe đọc bài", "nghe bài viết", "nghe bài", "chia sẻ", "share", "tweet", "facebook",
                 "zalo", "twitter", "email", "e-mail", "print", "cỡ chữ", "font size", "copy link",
                 "sao chép liên kết", "gửi bài", "lưu bài", "in"]
_CHROME_ALTERNATIVES = "|".join(map(re.escape, sorted(_CHROME_WORDS, key=len, reverse=True)))
_CHROME = re.compile(rf"(?:(?:{_CHROME_ALTERNATIVES})(?:[\s|:·•/,]+|$))+")
_FONT_SIZE = re.compile(r"(?=.*(?:[-+]a|a[-+]))(?:[-+]?a[-+]?(?:\s+|$))+")
_PUNCT_ONLY = re.compile(r"[\W_]+")
_IMAGE = re.compile(r"(?:https?://)?[\w .()\[\]~+%&'@#=/-]{1,250}"
                    r"\.(?:jpe?g|png|gif|webp|bmp|tiff?|svg|heic|avif)", re.IGNORECASE)

_TZ = re.compile(r"\(?\s*GMT\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?\s*\)?", re.IGNORECASE)
_DAY = re.compile(r"(?<!\d)(?:(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})"
                  r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2}))(?!\d)")
_CLOCK = re.compile(r"(?<!\d)(?P<h>\d{1,2})[:h](?P<m>\d{2})(?::(?P<s>\d{2}))?(?!\d)")
_DATE_WORDS = {"thứ", "hai", "ba", "tư", "năm", "sáu", "bảy", "bẩy", "chủ", "nhật", "cn", "t2", "t3", "t4",
               "t5", "t6", "t7", "cập", "lúc", "ngày", "đăng", "giờ", "xuất", "bản", "updated", "update",
               "published", "posted", "date"}

_CREDIT = re.compile(r"(?:^|[\s.(\[])(?:Ảnh|ẢNH)\s*:|\((?:ảnh|Ảnh|ẢNH)\b"
                     r"|(?i:ảnh\s+(?:minh\s+h(?:ọa|oạ)|tư\s+liệu))")
_SOURCE_LINE = re.compile(r"\(?\s*(?:Theo|Nguồn)\s*:?\s+(?P<source>[^(),]{1,80}?)\s*\)?\.?")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"”’)]*\s+\S")
_PHOTO_SUBJECTS = ("đồng chí", "các đồng chí", "đại biểu", "các đại biểu", "lãnh đạo", "các lãnh đạo",
                   "bí thư", "phó bí thư", "chủ tịch", "phó chủ tịch", "tổng bí thư", "thủ tướng",
                   "bộ trưởng", "thứ trưởng", "ông", "bà")
_PHOTO_SCENES = ("quang cảnh", "toàn cảnh")
_PHOTO_VERB = re.compile(r"(?<!\w)(?:phát biểu|dự|tham dự|chủ trì|trao|tặng|chụp ảnh|kiểm tra|thăm|"
                         r"làm việc|chúc mừng|cắt băng|biểu quyết|thảo luận|động viên)(?!\w)")
_CAPTION_MAX = 160
_CREDITED_CAPTION_MAX = 300


class ArticleError(ValueError):
    """The article folder as a whole cannot be used."""


@dataclass
class Article:
    """One cleaned news article, ready to index and display."""

    id: str
    title: str
    text: str
    date: str | None = None
    author: str | None = None
    url: str | None = None
    captions: list[str] = field(default_factory=list)
    source: str = ""
    language: str | None = None
    fetched_at: str | None = None
    alternates: list[str] = field(default_factory=list)


@dataclass
class Problem:
    """Why one file or record was skipped (or loaded with a caveat)."""

    source: str
    message: str


def load_folder(folder: Path) -> tuple[list[Article], list[Problem]]:
    """Load every article under a folder, so one bad file is reported instead of stopping the rest."""
    folder = Path(folder)
    if not folder.exists():
        raise ArticleError(f"article folder {folder} does not exist")
    if not folder.is_dir():
        raise ArticleError(f"article folder {folder} is not a directory")
    paths = _article_paths(folder)
    if not paths:
        raise ArticleError(f"article folder {folder} holds no article files "
                           f"(looked for {', '.join(sorted(_READERS))})")
    articles: list[Article] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in paths:
        found, trouble = load_file(path)
        kept, duplicates = _unique(found, seen)
        articles += kept
        problems += trouble + duplicates
    return articles, problems


def load_file(path: Path) -> tuple[list[Article], list[Problem]]:
    """Load one file's articles; whatever is wrong with it comes back as a Problem, not an exception."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        return [], [Problem(str(path), f"{path}: unsupported file type {path.suffix or '(none)'!r}; skipped")]
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return [], [Problem(str(path), f"{path}: cannot be read ({exc.strerror or exc}); skipped")]
    except UnicodeDecodeError as exc:
        return [], [Problem(str(path), f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                                       f"{exc.start}); save it as UTF-8. Skipped")]
    found, problems = reader(raw, path)
    kept, duplicates = _unique(found, {})
    return kept, problems + duplicates


def clean(raw: str, source_id: str) -> Article:
    """Scraped pages mix the story with site chrome and photo captions; keep only the story as text."""
    return _clean(raw, source_id, None)


def _article_paths(folder: Path) -> list[Path]:
    """Hidden files and folders are editor or version-control clutter, never articles."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in _READERS]
    return sorted(found)


def _unique(articles: list[Article], seen: dict[str, str]) -> tuple[list[Article], list[Problem]]:
    """The first article with an id wins, so a later copy cannot silently replace it."""
    kept, problems = [], []
    for article in articles:
        if article.id in seen:
            problems.append(Problem(article.source, f"{article.source}: duplicate article id {article.id!r} "
                                                    f"(already loaded from {seen[article.id]}); skipped"))
            continue
        seen[article.id] = article.source
        kept.append(article)
    return kept, problems


def _checked(article: Article, where: str) -> tuple[list[Article], list[Problem]]:
    """Ids become URL segments and file names, and empty articles only pollute search results."""
    reason = _id_problem(article.id)
    if reason is None and not article.text:
        reason = "no article text left after cleaning (only a title, captions or page chrome)"
    if reason is not None:
        return [], [Problem(article.source, f"{where}: {reason}; skipped")]
    return [article], []


def _id_problem(article_id: str) -> str | None:
    """Say why an id is unsafe as a URL path segment or file name, if it is."""
    if not article_id:
        return "the article id is empty"
    if len(article_id) > 200:
        return f"the article id is longer than 200 characters ({len(article_id)})"
    if article_id in (".", "..") or "/" in article_id or "\\" in article_id:
        return f"the article id {article_id!r} is not usable in a URL or file name ('.', '..', '/' or '\\')"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in article_id):
        return f"the article id {article_id!r} contains control or invisible characters"
    return None


def _read_text(raw: str, path: Path) -> tuple[list[Article], list[Problem]]:
    """Plain text is what scrapers produce, so it goes straight to the cleaner."""
    article = clean(raw, path.stem.strip())
    article.source = str(path)
    return _checked(article, str(path))


def _read_markdown(raw: str, path: Path) -> tuple[list[Article], list[Problem]]:
    """Markdown markup must not reach the text, and a real renderer knows all of its syntax."""
    soup = BeautifulSoup(_MARKDOWN.render(raw), "html.parser")
    heading = soup.find(_HEADINGS)
    article = _clean(_html_text(soup), path.stem.strip(), _inline_text(heading) if heading is not None else None)
    article.source = str(path)
    return _checked(article, str(path))


def _read_html(raw: str, path: Path) -> tuple[list[Article], list[Problem]]:
    """Saved web pages are read exactly as pages fetched from the web are."""
    return _checked(from_page(pages.read(raw), path.stem.strip(), str(path)), str(path))


def from_page(page: pages.Page, article_id: str, source: str) -> Article:
    """An article from trafilatura's reading; a sign-off line under the story names the author when the page did not."""
    author, body = _take_byline(page.text.split("\n\n")) if page.text else (None, [])
    return Article(id=article_id, title=page.title, text="\n\n".join(body), date=page.date,
                   author=page.author or author, url=page.url, captions=page.captions, source=source,
                   language=page.language)


def _inline_text(tag) -> str:
    """A heading or caption is one line, however its source was wrapped."""
    return tidy(" ".join(tag.get_text().split()))


def _html_text(root) -> str:
    """Source line breaks mean nothing in HTML; block elements and <br> are the real breaks."""
    for node in root.find_all(string=True):
        if type(node) is NavigableString:
            node.replace_with(_HTML_SPACE.sub(" ", node))
    for br in root.find_all("br"):
        br.replace_with("\n")
    for tag in root.find_all(_HTML_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return root.get_text()


def _read_json(raw: str, path: Path) -> tuple[list[Article], list[Problem]]:
    """A .json file is one exported record or a list of them."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return [], [Problem(str(path), f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                                       f"column {exc.colno}); skipped")]
    if not isinstance(data, list):
        return _from_record(data, str(path), str(path))
    articles, problems = [], []
    for number, record in enumerate(data, 1):
        found, trouble = _from_record(record, str(path), f"{path} record {number}")
        articles += found
        problems += trouble
    return articles, problems


def _read_jsonl(raw: str, path: Path) -> tuple[list[Article], list[Problem]]:
    """One record per line, so one broken line costs only that record."""
    articles, problems = [], []
    for number, line in enumerate(raw.split("\n"), 1):
        if not line.strip():
            continue
        source, where = f"{path}#{number}", f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"{where}: not valid JSON ({exc.msg}, column {exc.colno}); skipped"
            problems.append(Problem(source, message))
            continue
        found, trouble = _from_record(record, source, where)
        articles += found
        problems += trouble
    return articles, problems


def _from_record(record: object, source: str, where: str) -> tuple[list[Article], list[Problem]]:
    """Records say their own title, date and author; the text still needs the scraped-text cleaning."""
    reason = _record_problem(record)
    if reason is not None:
        return [], [Problem(source, f"{where}: {reason}; skipped")]
    article = _clean(record["text"], str(record["id"]).strip(), record.get("title") or None)
    article.source = source
    article.url = tidy(record.get("url") or "") or None
    article.author = tidy(record.get("author") or "") or article.author
    problems = []
    if record.get("date"):
        article.date = _iso_date(record["date"])
        if article.date is None:
            problems.append(Problem(source, f"{where}: date {record['date']!r} is not a recognised date; "
                                            "loaded without a date"))
    found, trouble = _checked(article, where)
    return found, problems + trouble


def _record_problem(record: object) -> str | None:
    """Say what makes a JSON value unusable as an article record, if anything."""
    if not isinstance(record, dict):
        return f"expected a JSON object with \"id\" and \"text\", got {type(record).__name__}"
    if record.get("id") is None:
        return "the record has no \"id\""
    if isinstance(record["id"], bool) or not isinstance(record["id"], (str, int)):
        return "the record's \"id\" must be a string or an integer"
    if record.get("text") is None:
        return "the record has no \"text\""
    for key in ("text", "title", "url", "date", "author"):
        if record.get(key) is not None and not isinstance(record[key], str):
            return f"the record's \"{key}\" must be a string"
    return None


def _iso_date(value: str) -> str | None:
    """Dates are compared and displayed as ISO 8601, whatever form the source used."""
    value = value.strip()
    try:
        if len(value) <= 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return _date_line(value)


def _clean(raw: str, article_id: str, title: str | None) -> Article:
    """Shared by every format so that records and pages get the same chrome and caption handling."""
    lines = _drop_header([line for line in tidy(raw).split("\n") if line])
    lines = [line for line in lines if not _is_chrome(line) and not _PUNCT_ONLY.fullmatch(line)]
    found_date, lines = _take_date(lines)
    title, lines = _take_title(lines, tidy(title or "") or None)
    body, captions = _split_captions(lines)
    author, body = _take_byline(body)
    return Article(id=article_id, title=title, text="\n\n".join(body), date=found_date, author=author,
                   captions=captions)


def _is_chrome(line: str) -> bool:
    """Toolbar lines (skip links, print, share, font size) are made of a few known words only."""
    lowered = line.casefold()
    return bool(_CHROME.fullmatch(lowered) or _FONT_SIZE.fullmatch(lowered))


def _drop_header(lines: list[str]) -> list[str]:
    """Above the last toolbar line of the page header there is only site banner, never the headline."""
    end = next((i for i, line in enumerate(lines) if _starts_story(line)), len(lines))
    story = [i for i in range(end) if not _is_chrome(lines[i])]
    cuts = [i for i in range(story[-1]) if _is_chrome(lines[i])] if story else []
    return lines[cuts[-1] + 1:] if cuts else lines


def _starts_story(line: str) -> bool:
    """The page header ends at the date line or the first sentence-like paragraph."""
    return _date_line(line) is not None or (not _is_chrome(line) and (len(line) > 200 or line.endswith(".")))


def _take_date(lines: list[str]) -> tuple[str | None, list[str]]:
    """The first line that is only a date is the publication date, not text."""
    for i, line in enumerate(lines):
        found = _date_line(line)
        if found is not None:
            return found, lines[:i] + lines[i + 1:]
    return None, lines


def _date_line(line: str) -> str | None:
    """Read a line made only of a date, optional weekday, time and GMT offset, as ISO 8601."""
    if len(line) > 80:
        return None
    zone = _TZ.search(line)
    rest = _cut(line, zone)
    day = _DAY.search(rest)
    rest = _cut(rest, day)
    clock = _CLOCK.search(rest)
    rest = _cut(rest, clock)
    if day is None or any(word not in _DATE_WORDS for word in re.findall(r"\w+", rest.casefold())):
        return None
    try:
        return _iso_from(day, clock, zone)
    except ValueError:
        return None


def _cut(text: str, match: re.Match | None) -> str:
    """Blank out a matched part so the remaining words can be checked."""
    return text if match is None else text[:match.start()] + " " + text[match.end():]


def _iso_from(day: re.Match, clock: re.Match | None, zone: re.Match | None) -> str:
    """Build the ISO 8601 form; a date without a time stays a plain date."""
    year, month, dom = (int(day["y"] or day["iy"]), int(day["m"] or day["im"]), int(day["d"] or day["id"]))
    if clock is None:
        return date(year, month, dom).isoformat()
    tz = None
    if zone is not None:
        offset = timedelta(hours=int(zone["h"]), minutes=int(zone["m"] or 0))
        tz = timezone(-offset if zone["sign"] == "-" else offset)
    when = datetime(year, month, dom, int(clock["h"]), int(clock["m"]), int(clock["s"] or 0), tzinfo=tz)
    return when.isoformat()


def _take_title(lines: list[str], title: str | None) -> tuple[str, list[str]]:
    """Without a given title the first real line is the headline; the body never repeats it."""
    if title is not None:
        return title, [line for line in lines if _key(line) != _key(title)]
    first = next((i for i, line in enumerate(lines) if not _IMAGE.fullmatch(line)), None)
    return ("", []) if first is None else (lines[first], lines[first + 1:])


def _key(text: str) -> str:
    """Comparison form, so spelling variants of one line count as the same line."""
    return " ".join(words(text))


def _split_captions(lines: list[str]) -> tuple[list[str], list[str]]:
    """Photo captions describe pictures the reader cannot see; they must not read as story text."""
    body: list[str] = []
    captions: list[str] = []
    for i, line in enumerate(lines):
        if _IMAGE.fullmatch(line):
            continue
        if _is_caption(lines, i, after_lead=bool(body)):
            _add_caption(captions, line)
        else:
            body.append(line)
    return body, captions


def _is_caption(lines: list[str], i: int, after_lead: bool) -> bool:
    """Credits and image neighbours are sure signs; otherwise only short photo-like lines after the lead."""
    line = lines[i]
    if len(line) > _CREDITED_CAPTION_MAX:
        return False
    if _CREDIT.search(line):
        return True
    if len(line) > _CAPTION_MAX or line.endswith(":") or _SENTENCE_BREAK.search(line):
        return False
    if i > 0 and _IMAGE.fullmatch(lines[i - 1]):
        return True
    return after_lead and (_has_near_duplicate(lines, i) or _looks_like_photo(line))


def _has_near_duplicate(lines: list[str], i: int) -> bool:
    """Scraped pages often repeat a caption (alt text, then caption): two near-equal photo lines."""
    neighbours = [lines[j] for j in (i - 1, i + 1) if 0 <= j < len(lines)]
    return _photo_words(lines[i]) and any(_similar(lines[i], other) for other in neighbours)


def _similar(first: str, second: str) -> bool:
    """Near-equal: one contiguous edit (a typo, an inserted name) in otherwise equal short lines."""
    if len(second) > _CAPTION_MAX:
        return False
    matcher = difflib.SequenceMatcher(None, words(first), words(second), autojunk=False)
    edits = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    return len(edits) <= 1 and matcher.ratio() >= 0.75


def _photo_words(line: str) -> bool:
    """Captions name who is in the picture or what they are doing."""
    lowered = line.casefold()
    return _starts_with(lowered, _PHOTO_SUBJECTS + _PHOTO_SCENES) or bool(_PHOTO_VERB.search(lowered))


def _looks_like_photo(line: str) -> bool:
    """A short 'who does what' line, or a scene shot, reads as a photo description."""
    lowered = line.casefold()
    if _starts_with(lowered, _PHOTO_SCENES):
        return True
    ends_sentence = line[-1] in ".!?…;"
    return _starts_with(lowered, _PHOTO_SUBJECTS) and (bool(_PHOTO_VERB.search(lowered)) or not ends_sentence)


def _starts_with(lowered: str, prefixes: tuple[str, ...]) -> bool:
    """Prefix match on whole words only."""
    return any(lowered == p or lowered.startswith(p + " ") for p in prefixes)


def _add_caption(captions: list[str], line: str) -> None:
    """A repeated caption is kept once, in its fuller (or later, corrected) form."""
    if captions and _similar(captions[-1], line):
        if len(line) >= len(captions[-1]):
            captions[-1] = line
    elif line not in captions:
        captions.append(line)


def _take_byline(body: list[str]) -> tuple[str | None, list[str]]:
    """The signature under the last paragraph names the author (or source); it is not story text."""
    author = source = None
    while author is None and len(body) > 1:
        match = _SOURCE_LINE.fullmatch(body[-1]) if source is None else None
        if match and _looks_like_source(match["source"]):
            source = match["source"]
        elif _is_name_line(body[-1]):
            author = body[-1]
        else:
            break
        body = body[:-1]
    return author or source, body


def _looks_like_source(source: str) -> bool:
    """'Theo TTXVN' or 'Theo baochinhphu.vn' credits a source; 'Theo đó, …' starts a sentence."""
    return len(source.split()) <= 8 and (source[0].isupper() or bool(re.search(r"\w\.\w{2,}", source)))


def _is_name_line(line: str) -> bool:
    """A byline is a short name, in capitals or title case, maybe followed by '- Organisation'."""
    if len(line) > 80 or line[-1] in ".!?…:;,":
        return False
    name = re.split(r"\s+[-–—/|]\s+|\s*[(,]\s*", line, maxsplit=1)[0]
    parts = name.split()
    if not 1 <= len(parts) <= 5 or not all(p.replace(".", "").replace("'", "").isalpha() for p in parts):
        return False
    if name.isupper():
        return True
    return all(p[0].isupper() for p in parts) and (len(parts) >= 2 or bool(re.fullmatch(r"(?:\w\.)+\w+", name)))


_READERS = {".txt": _read_text, ".md": _read_markdown, ".markdown": _read_markdown, ".html": _read_html,
            ".htm": _read_html, ".json": _read_json, ".jsonl": _read_jsonl}

"""A small generated news site on loopback, for the fetch, discover and crawl tests and bench/crawl.py.

Its articles are the seed articles plus generated ones, in a realistic page template (navigation,
cookie banner, share buttons, related links, comments). Beside them it serves the faults a crawler
meets: robots.txt disallowing /private/, a page that never answers, 404, 500 then 200, 429 with
Retry-After then 200, a redirect
loop, a 20 MB page, a PDF, a windows-1258 page, an empty page and a feed with malformed XML. A
second `NewsSite` (another port: another host to the crawler) can carry copies of stories.
"""
from __future__ import annotations

import hashlib
import html
import random
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
HUGE_BYTES = 20 * 1024 * 1024
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_PLACES = ["Hà Nội", "Đà Nẵng", "Cần Thơ", "Huế", "Hải Phòng", "Nha Trang", "Vinh", "Quy Nhơn", "Đà Lạt",
           "Buôn Ma Thuột", "Pleiku", "Long Xuyên", "Rạch Giá", "Thái Nguyên", "Nam Định", "Hạ Long"]
_TOPICS = ["cầu vượt sông", "trường tiểu học", "bệnh viện đa khoa", "chợ đầu mối", "tuyến xe buýt điện",
           "nhà máy nước sạch", "công viên ven hồ", "thư viện tỉnh", "đường cao tốc", "cảng cá",
           "khu công nghiệp", "trạm y tế xã", "sân vận động", "bảo tàng lịch sử", "hệ thống đèn đường"]
_PEOPLE = ["ông Trần Văn Minh", "bà Lê Thị Hoa", "ông Phạm Quốc Bảo", "bà Nguyễn Thu Trang", "ông Võ Đức Long",
           "bà Hoàng Mai Anh", "ông Đặng Hữu Phúc", "bà Bùi Ngọc Lan"]
_VERBS = ["khởi công", "khánh thành", "nâng cấp", "mở rộng", "sửa chữa", "đưa vào sử dụng"]


@dataclass
class Story:
    """One article of the site."""

    slug: str
    title: str
    paragraphs: list[str]
    published: datetime
    author: str
    section: str = "news"

    @property
    def path(self) -> str:
        return f"/{self.section}/{self.slug}.html"


def seed_stories() -> list[Story]:
    """The seed articles as stories: first line the headline, then the paragraphs."""
    stories = []
    for number, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
        body = [line for line in lines[1:] if len(line) > 60]
        stories.append(Story(f"seed-{number}", lines[0], body, _day(number), "Phóng viên Tỉnh"))
    return stories


def generated_story(number: int, section: str = "news") -> Story:
    """A made-up local news story, different enough from every other number not to read as a copy."""
    rng = random.Random(number)
    place, topic, person, verb = (rng.choice(_PLACES), rng.choice(_TOPICS), rng.choice(_PEOPLE), rng.choice(_VERBS))
    cost, months, people = rng.randint(12, 980), rng.randint(3, 30), rng.randint(200, 9000)
    title = f"{place} {verb} {topic} số {number}"
    paragraphs = [
        f"Sáng nay, thành phố {place} đã {verb} {topic} số {number} với tổng vốn đầu tư {cost} tỷ đồng, "
        f"sau {months} tháng chuẩn bị và lấy ý kiến của {people} hộ dân trong khu vực.",
        f"Theo {person}, người phụ trách dự án mang mã {number * 7 + 3}, công trình giúp người dân "
        f"{rng.choice(_PLACES)} và {rng.choice(_PLACES)} đi lại thuận tiện hơn, tiết kiệm khoảng "
        f"{rng.randint(10, 90)} phút mỗi ngày.",
        f"Đơn vị thi công cho biết đã huy động {rng.randint(40, 600)} công nhân và {rng.randint(5, 80)} "
        f"máy móc, làm việc ba ca liên tục để kịp tiến độ trước mùa mưa năm {2020 + number % 6}.",
        f"Trong giai đoạn tiếp theo, tỉnh dự kiến dành thêm {rng.randint(5, 300)} tỷ đồng cho "
        f"{rng.choice(_TOPICS)} tại {rng.choice(_PLACES)}, ưu tiên các xã còn nhiều khó khăn.",
    ]
    return Story(f"story-{number}", title, paragraphs, _day(number), rng.choice(_PEOPLE).split(" ", 1)[1].title(),
                 section)


def _day(number: int) -> datetime:
    """Publication times one hour apart, most recent first."""
    return datetime(2024, 5, 20, 8, 30, tzinfo=timezone(timedelta(hours=7))) - timedelta(hours=number)


def article_page(story: Story, site_name: str, canonical: str | None) -> str:
    """A story in the kind of template news sites use, with all the furniture around it."""
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{html.escape(story.title)} | {site_name}</title>
<meta property="og:site_name" content="{site_name}">
<meta property="og:title" content="{html.escape(story.title)}">
<meta property="article:published_time" content="{story.published.isoformat()}">
<meta name="author" content="{html.escape(story.author)}">{link}
<script>window.dataLayer = [{{"page": "article"}}];</script><style>.share{{display:flex}}</style></head>
<body>
<div class="cookie-banner" id="cookie">Trang web sử dụng cookie để cải thiện trải nghiệm của bạn.
 <button>Đồng ý</button> <a href="/privacy">Tìm hiểu thêm</a></div>
<header><a class="logo" href="/">{site_name}</a>
<nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/thoi-su">Thời sự</a></li>
<li><a href="/kinh-te">Kinh tế</a></li><li><a href="/the-thao">Thể thao</a></li></ul></nav></header>
<main><article class="article-detail">
<h1 class="title">{html.escape(story.title)}</h1>
<div class="meta"><span class="author">{html.escape(story.author)}</span>
<time datetime="{story.published.isoformat()}">{story.published:%d/%m/%Y %H:%M}</time></div>
<div class="share"><a href="#">Chia sẻ Facebook</a> <a href="#">Zalo</a> <a href="#">In bài</a></div>
<div class="content">
{paragraphs}
<figure><img src="/img/{story.slug}.jpg" alt="Ảnh minh họa"><figcaption>Quang cảnh buổi lễ. Ảnh: {site_name}
</figcaption></figure>
</div>
<div class="tags">Từ khóa: <a href="/tag/dia-phuong">địa phương</a> <a href="/tag/dau-tu">đầu tư</a></div>
</article>
<aside class="related"><h2>Tin liên quan</h2><ul>
<li><a href="/news/other-1.html">Giá xăng giảm nhẹ từ chiều nay</a></li>
<li><a href="/news/other-2.html">Dự báo thời tiết cuối tuần: mưa rào rải rác</a></li></ul></aside>
<section class="comments" id="comments"><h2>Bình luận (2)</h2>
<div class="comment"><b>Độc giả An</b><p>Bài viết rất hay, cảm ơn tòa soạn đã thông tin kịp thời.</p></div>
<div class="comment"><b>Minh Tuấn</b><p>Mong công trình sớm hoàn thành để bà con đỡ vất vả.</p></div>
<form><textarea name="c"></textarea><button>Gửi bình luận</button></form></section>
</main>
<footer><p>© 2024 {site_name}. Giấy phép số 123/GP-BTTTT.</p><p>Địa chỉ: 1 Đường Chính, Thành phố.</p></footer>
</body></html>"""


def windows_1258(text: str) -> bytes:
    """Encode Vietnamese as windows-1258 does: letters with their tone mark as a separate combining mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out += (base + "".join(c for c in parts if c in _TONES)).encode("cp1258")
    return bytes(out)


class NewsSite:
    """A running news site on 127.0.0.1; `stories` may change while it runs (feeds follow)."""

    def __init__(self, name: str = "Báo Thử Nghiệm", stories: list[Story] | None = None, canonical: bool = True,
                 faults: bool = True):
        self.name, self.canonical, self.faults = name, canonical, faults
        self.stories = list(stories if stories is not None else seed_stories())
        self.requests: list[str] = []
        self.agents: list[str] = []
        self.flaky_calls = 0
        self.busy_calls = 0
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> NewsSite:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, releasing the page that never answers."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        """How many requests a path got."""
        return sum(1 for p in self.requests if p == path)

    def routes(self) -> dict[str, tuple[int, str, bytes]]:
        """Status, content type and body of every plain page of the site."""
        pages = {s.path: (200, "text/html; charset=utf-8", article_page(
            s, self.name, self.url(s.path) if self.canonical else None).encode()) for s in self.stories}
        pages["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /private/\n")
        pages["/feed.rss"] = (200, "application/rss+xml", self.rss().encode())
        pages["/feed.atom"] = (200, "application/atom+xml", self.atom().encode())
        pages["/sitemap.xml"] = (200, "application/xml", self.sitemap_index().encode())
        pages["/sitemap-news.xml"] = (200, "application/xml", self.urlset([s.path for s in self.stories]).encode())
        if self.faults:
            pages.update(self._fault_pages())
        return pages

    def _fault_pages(self) -> dict[str, tuple[int, str, bytes]]:
        """The pages a crawler must survive (the slow, flaky, redirecting and huge ones are answered in code)."""
        secret = Story("secret", "Tin nội bộ", ["Nội dung này không được phép thu thập. " * 3], _day(0), "X", "private")
        vietnamese = generated_story(9000)
        page_1258 = article_page(vietnamese, self.name, None).replace('<meta charset="utf-8">', "")
        return {
            "/private/secret.html": (200, "text/html; charset=utf-8", article_page(secret, self.name, None).encode()),
            "/report.pdf": (200, "application/pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
            "/vi-1258.html": (200, "text/html; charset=windows-1258", windows_1258(page_1258)),
            "/empty.html": (200, "text/html; charset=utf-8", b""),
            "/feed-broken.rss": (200, "application/rss+xml",
                                 b"<?xml version='1.0'?><rss><channel><title>Hong<item><link>"),
            "/sitemap-faults.xml": (200, "application/xml", self.urlset(FAULT_PATHS).encode()),
        }

    def rss(self) -> str:
        """RSS 2.0 with every story, newest first."""
        items = "".join(f"<item><title>{html.escape(s.title)}</title><link>{self.url(s.path)}</link>"
                        f"<guid>{self.url(s.path)}</guid><pubDate>{format_datetime(s.published)}</pubDate></item>"
                        for s in self._newest())
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{self.name}</title>'
                f"<link>{self.base}/</link><description>Tin mới</description>{items}</channel></rss>")

    def atom(self) -> str:
        """Atom with every story."""
        entries = "".join(f"<entry><title>{html.escape(s.title)}</title><link href=\"{self.url(s.path)}\"/>"
                          f"<id>{self.url(s.path)}</id><updated>{s.published.isoformat()}</updated></entry>"
                          for s in self._newest())
        return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>{self.name}</title><id>{self.base}/</id><updated>2024-05-20T08:30:00+07:00</updated>"
                f"{entries}</feed>")

    def sitemap_index(self) -> str:
        """A sitemap index naming the news sitemap (and the faults sitemap)."""
        names = ["/sitemap-news.xml"] + (["/sitemap-faults.xml"] if self.faults else [])
        maps = "".join(f"<sitemap><loc>{self.url(n)}</loc></sitemap>" for n in names)
        return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>'

    def urlset(self, paths: list[str]) -> str:
        """A sitemap of some paths."""
        urls = "".join(f"<url><loc>{html.escape(self.url(p))}</loc></url>" for p in paths)
        return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'

    def _newest(self) -> list[Story]:
        return sorted(self.stories, key=lambda s: s.published, reverse=True)

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.agents.append(self.headers.get("User-Agent", ""))
                try:
                    site._answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        """Serve one request: fault behaviours first, then plain pages with ETag / Last-Modified."""
        path = handler.path.split("?")[0]
        if self.faults and path == "/slow.html":
            self._stop.wait(30)
            return
        if self.faults and path == "/flaky.html":
            self.flaky_calls += 1
            if self.flaky_calls == 1:
                return _send(handler, 500, "text/plain", b"busy", {"Retry-After": "0"})
            return _send(handler, 200, "text/html; charset=utf-8",
                         article_page(generated_story(9001), self.name, None).encode())
        if self.faults and path == "/busy.html":
            self.busy_calls += 1
            if self.busy_calls % 2 == 1:
                return _send(handler, 429, "text/plain", b"slow down", {"Retry-After": "1"})
            return _send(handler, 200, "text/html; charset=utf-8",
                         article_page(generated_story(9002), self.name, None).encode())
        if self.faults and path in ("/loop-a", "/loop-b"):
            return _send(handler, 302, "text/plain", b"", {"Location": "/loop-b" if path == "/loop-a" else "/loop-a"})
        if self.faults and path == "/huge.html":
            return self._huge(handler)
        found = self.routes().get(path)
        if found is None:
            return _send(handler, 404, "text/html", b"<html><body><h1>Not found</h1></body></html>")
        status, kind, body = found
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if handler.headers.get("If-None-Match") == etag:
            return _send(handler, 304, kind, b"", {"ETag": etag})
        return _send(handler, status, kind, body, {"ETag": etag, "Last-Modified": format_datetime(
            datetime(2024, 5, 20, tzinfo=UTC), usegmt=True)})

    def _huge(self, handler: BaseHTTPRequestHandler) -> None:
        """A 20 MB page sent without a Content-Length, so only the size limit while reading can stop it."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        block = b"<p>" + b"x" * 65530 + b"</p>"
        for _ in range(HUGE_BYTES // len(block) + 1):
            if self._stop.is_set():
                return
            handler.wfile.write(block)


FAULT_PATHS = ["/private/secret.html", "/slow.html", "/missing.html", "/flaky.html", "/loop-a", "/huge.html",
               "/report.pdf", "/vi-1258.html", "/empty.html"]


def _send(handler: BaseHTTPRequestHandler, status: int, kind: str, body: bytes, headers: dict | None = None) -> None:
    """A complete answer with its length."""
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    if body:
        handler.wfile.write(body)


def wait_until(predicate, timeout: float = 10.0) -> bool:
    """Poll until a condition holds (for background work in tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()

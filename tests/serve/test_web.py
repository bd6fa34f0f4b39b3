"""The chat and article pages in a real browser (Debian's Chromium driven by Playwright) against a
real `python -m qa serve` (the `live_server` fixture). Screenshots of the main states are saved in
tests/screenshots/."""
from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

Q_CHAIR = "Ai chủ trì hội nghị lần thứ 53 của Ban Thường vụ Tỉnh ủy?"
Q_CHAIR_EN = "Who chaired the 53rd conference of the provincial Party Standing Committee?"
Q_GUIDE = "Hướng dẫn số 26-HD/BTCTW xác định nhiệm vụ quan trọng nào?"
Q_FOLLOW = "Văn bản đó do cơ quan nào ban hành?"
Q_GOLD = "Giá vàng SJC hôm nay bao nhiêu một lượng?"
Q_XSS = "Hội nghị về an toàn thông tin cổng thông tin điện tử"
ARTICLE_CHAIR = "001_c3d5175d572a1b4d"
ARTICLE_GUIDE = "002_8c712d888035ba10"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="session")
def shots() -> Path:
    """A fresh screenshot folder, announced once."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    print(f"\nscreenshots: {SHOTS}")
    return SHOTS


@pytest.fixture(scope="session")
def browser():
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


class Watch:
    """What a page reported: console errors, uncaught exceptions, dialogs, CSP violations."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("dialog", self._dialog)
        # Init scripts come from the browser's debugging protocol, so the page's CSP does not block them.
        page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                             " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def make_page(browser, live_server):
    """A page in a fresh context (own sessionStorage), Vietnamese browser unless told otherwise."""
    contexts = []

    def make(**options):
        options = {"viewport": {"width": 1100, "height": 850}, "locale": "vi-VN", **options}
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.watch = Watch(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(make_page):
    return make_page()


def open_chat(page):
    page.goto("/")
    expect(page.locator("#question")).to_be_editable()


def ask(page, question: str):
    """Type a question, press Enter, wait until its turn holds an answer or an error; that turn."""
    turns = page.locator("#thread > .turn")
    before = turns.count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(turns).to_have_count(before + 1)
    turn = turns.nth(before)
    expect(turn.locator(".reply.pending")).to_have_count(0)
    expect(page.locator("#thread")).to_have_attribute("aria-busy", "false")
    return turn


def api_article(base: str, article_id: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/articles/{article_id}") as response:
        return json.load(response)


def squash(text: str) -> str:
    """Text without whitespace, to compare passages split into paragraphs with their source."""
    return re.sub(r"\s+", "", text)


def held_route(page, pattern="**/api/ask"):
    """Hold matching requests until the test lets them go; the list of held routes."""
    held = []
    page.route(pattern, lambda route: held.append(route))
    return held


def wait_for(page, condition, timeout_ms=10_000):
    """Poll a Python-side condition while Playwright keeps dispatching events."""
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("condition never became true")


def test_empty_chat_then_cited_answer_with_highlighted_source(page, shots):
    open_chat(page)
    examples = page.locator("#examples .example")
    expect(examples.first).to_be_visible()
    assert examples.count() >= 2
    page.screenshot(path=shots / "01-empty-chat.png")

    # While the service works: a visible indicator, a busy thread, input and button disabled.
    held = held_route(page)
    page.fill("#question", Q_CHAIR)
    page.press("#question", "Enter")
    pending = page.locator("#thread .reply.pending")
    expect(pending).to_contain_text("Đang tìm…")
    expect(pending.locator(".spinner")).to_be_visible()
    expect(page.locator("#thread")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#question")).to_be_disabled()
    expect(page.locator("#send")).to_be_disabled()
    wait_for(page, lambda: held)
    held[0].continue_()
    page.unroute("**/api/ask")
    turn = page.locator("#thread > .turn").first
    answer = turn.locator(".answer-text")
    expect(answer).to_contain_text("Phạm Xuân Thăng")
    cite = answer.locator("button.cite").first
    expect(cite).to_have_text("[1]")
    card = turn.locator(f'.sources.source .card[data-article-id="{ARTICLE_CHAIR}"]')
    expect(card).to_have_count(1)
    expect(card.locator(".card-text mark").first).to_contain_text("Phạm Xuân Thăng")
    expect(card.locator("a.card-link")).to_have_text(re.compile("Xem bài viết"))
    # One card per passage across sources and related passages.
    ids = turn.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.passageId)")
    assert ids and len(ids) == len(set(ids))
    # Labels follow the Vietnamese question; the answer element says so.
    assert turn.get_attribute("lang") == "vi"
    expect(turn.locator(".sources-title").first).to_have_text("Nguồn")
    expect(page.locator("#empty")).to_be_hidden()
    page.screenshot(path=shots / "02-answer-with-sources.png", full_page=True)
    assert page.watch.errors == []


def test_citation_flashes_card_and_article_link_highlights_passage(page, shots, live_server):
    open_chat(page)
    # Enough turns that the first answer's card is off screen when its citation is clicked.
    first = ask(page, Q_CHAIR)
    ask(page, Q_GUIDE)
    page.mouse.wheel(0, 10_000)
    cite = first.locator("button.cite").first
    cite.click()
    card = page.locator("#" + cite.get_attribute("aria-controls"))
    expect(card).to_have_class(re.compile(r"\bflash\b"))
    expect(card).to_be_in_viewport()
    expect(card).to_be_focused()

    link = card.locator("a.card-link")
    href = link.get_attribute("href")
    assert re.fullmatch(rf"/articles/{ARTICLE_CHAIR}(\?sentence=\d+-\d+&answer=\d+-\d+)?#p\d+", href)
    link.click()
    page.wait_for_url(re.compile(rf"/articles/{ARTICLE_CHAIR}(\?[^#]*)?#p\d+$"))
    index = int(page.url.rsplit("#p", 1)[1])
    article = api_article(live_server, ARTICLE_CHAIR)
    expect(page.locator("#article-title")).to_have_text(article["title"])
    target = page.locator(".passage-target")
    expect(target).to_have_count(1)
    expect(target).to_be_in_viewport()
    passage = next(p for p in article["passages"] if p["index"] == index)
    assert squash(passage["text"]) in squash(target.text_content())
    expect(page.locator("#article-meta")).to_contain_text(article["author"])
    expect(page.locator("#back-link")).to_have_attribute("href", "/")
    page.screenshot(path=shots / "03-article-highlighted-passage.png")

    # A passage further down, opened from its own (shareable) URL, is scrolled to as well.
    last = article["passages"][-1]
    page.goto(f"/articles/{ARTICLE_CHAIR}#p{last['index']}")
    expect(page.locator(".passage-target")).to_be_in_viewport()
    assert squash(last["text"]) in squash(page.locator(".passage-target").text_content())
    assert page.evaluate("window.scrollY") > 0
    # Changing the fragment moves the highlight.
    page.evaluate("location.hash = '#p0'")
    expect(page.locator(".passage-target")).to_contain_text(article["passages"][0]["text"][:40])
    expect(page.locator(".passage-target")).to_be_in_viewport()

    page.goto("/articles/no_such_article")
    expect(page.locator("#article-status")).to_contain_text("Không tìm thấy bài viết")
    expect(page.locator("#back-link")).to_be_visible()
    assert [e for e in page.watch.errors if "404" not in e] == []


def test_follow_up_sends_history_and_is_answered_from_the_same_document(page):
    open_chat(page)
    first = ask(page, Q_GUIDE)
    expect(first.locator(".answer-text")).to_be_visible()
    first_answer = page.evaluate("JSON.parse(sessionStorage.getItem('qa.chat.v1')).turns[0].response.answer.text")
    with page.expect_request(lambda r: r.url.endswith("/api/ask") and r.method == "POST") as request:
        second = ask(page, Q_FOLLOW)
    body = json.loads(request.value.post_data)
    assert body["question"] == Q_FOLLOW
    assert body["history"] == [{"role": "user", "content": Q_GUIDE}, {"role": "assistant", "content": first_answer}]
    sources = second.locator(".sources.source .card")
    expect(sources.first).to_be_visible()
    articles = sources.evaluate_all("cards => cards.map(c => c.dataset.articleId)")
    assert articles and set(articles) == {ARTICLE_GUIDE}
    expect(second.locator(".resolved")).to_have_count(0)  # the keywords glued on for searching are not shown


def test_no_answer_says_so_and_shows_related_passages(page, shots):
    open_chat(page)
    turn = ask(page, Q_GOLD)
    expect(turn.locator(".not-found")).to_have_text("Không tìm thấy câu trả lời trong các bài viết.")
    expect(turn.locator(".answer-text")).to_have_count(0)
    related = turn.locator(".sources.related")
    expect(related.locator(".sources-title")).to_have_text("Liên quan")
    assert related.locator(".card").count() >= 1
    expect(related.locator(".card a.card-link").first).to_be_visible()
    page.screenshot(path=shots / "04-no-answer.png")


def test_markup_in_articles_stays_text(page, shots):
    page.goto("/articles/xss_test")
    title = page.locator("#article-title")
    expect(title).to_have_text(re.compile(re.escape(SCRIPT)))
    expect(title).to_contain_text(IMG)
    expect(page.locator("#article-body")).to_contain_text(SCRIPT)
    body = page.locator("body").inner_text()
    assert SCRIPT in body and IMG in body
    page.screenshot(path=shots / "05-xss-article.png")

    open_chat(page)
    turn = ask(page, Q_XSS)
    card = turn.locator('.card[data-article-id="xss_test"]').first
    expect(card).to_be_visible()
    expect(card.locator(".card-title")).to_contain_text(SCRIPT)
    expect(card.locator(".card-text")).to_contain_text(IMG)
    assert SCRIPT in page.locator("#thread").inner_text()
    expect(page.locator('img[src="x"]')).to_have_count(0)
    expect(page.locator("b")).to_have_count(0)
    assert page.locator("script").count() == 1  # only /static/app.js
    assert page.watch.dialogs == []
    assert page.evaluate("window.__csp") == []


def test_web_article_card_and_page_link_to_the_original(page):
    open_chat(page)
    turn = ask(page, "Cầu vượt sông ở Hồng Thịnh dài bao nhiêu mét?")
    card = turn.locator('.card[data-article-id="web_test"]').first
    origin = card.locator(".card-origin a")
    expect(origin).to_have_text("Xem bài gốc")
    expect(card.locator(".card-meta")).to_contain_text("bao-mau.example")
    expect(origin).to_have_attribute("href", "https://bao-mau.example/tin/cau-vuot-song-hong-thinh.html")
    expect(turn.locator('.card[data-article-id="001_c3d5175d572a1b4d"] .card-origin')).to_have_count(0)
    page.goto("/articles/web_test")
    link = page.locator("#article-source a")
    expect(link).to_have_text("Xem bài gốc — bao-mau.example")
    expect(link).to_have_attribute("href", "https://bao-mau.example/tin/cau-vuot-song-hong-thinh.html")


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {id: e.id, cls: e.className, tag: e.tagName, outline: getComputedStyle(e).outlineStyle}; }""")


def tab_until(page, test, limit=40, key="Tab") -> dict:
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if test(now):
            return now
    raise AssertionError(f"never reached the element with {key}; last focus {now}")


NAMELESS_CONTROLS = """() => [...document.querySelectorAll('button, a[href], textarea, input, summary, select')]
    .filter(e => e.getClientRects().length)
    .filter(e => {
        const labelled = e.labels && [...e.labels].some(l => l.textContent.trim());
        return !(e.getAttribute('aria-label') || '').trim() && !e.textContent.trim() && !labelled;
    }).map(e => e.outerHTML.slice(0, 80))"""


def test_keyboard_only(page):
    open_chat(page)
    expect(page.locator("#examples .example").first).to_be_visible()
    assert page.evaluate(NAMELESS_CONTROLS) == []
    # The first Tab stop is the skip link; Tab order then reaches the question box.
    first = tab_until(page, lambda f: True)
    assert "skip-link" in first["cls"] and first["outline"] != "none"
    tab_until(page, lambda f: f["id"] == "question")
    page.keyboard.type(Q_CHAIR)
    page.keyboard.press("Enter")
    turn = page.locator("#thread > .turn").first
    expect(turn.locator(".answer-text")).to_contain_text("Phạm Xuân Thăng")
    expect(page.locator("#question")).to_be_focused()
    expect(page.locator("#question")).to_have_value("")

    # Tab from the top of the page to the first citation, then Enter flashes its card.
    page.locator("body").evaluate("b => document.activeElement.blur()")
    cite = tab_until(page, lambda f: "cite" in f["cls"].split())
    assert cite["outline"] != "none"
    page.keyboard.press("Enter")
    card = turn.locator(".sources.source .card").first
    expect(card).to_have_class(re.compile(r"\bflash\b"))
    expect(card).to_be_focused()
    assert page.evaluate(NAMELESS_CONTROLS) == []
    # Tab continues inside the card: its article link.
    page.keyboard.press("Tab")
    expect(card.locator("a.card-link")).to_be_focused()
    # The copy button and the "other passages" disclosure are reachable too, and Space works on buttons.
    page.locator("body").evaluate("b => document.activeElement.blur()")
    tab_until(page, lambda f: "copy" in f["cls"].split())
    page.keyboard.press("Space")
    expect(turn.locator("button.copy")).to_contain_text(re.compile("Đã chép|Không chép được"))

    # Shift+Enter adds a line and sends nothing.
    tab_until(page, lambda f: f["id"] == "question")
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/api/ask") else None)
    page.keyboard.press("Enter")  # an empty question is not sent
    page.keyboard.type("dòng một")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("dòng hai")
    expect(page.locator("#question")).to_have_value("dòng một\ndòng hai")
    expect(page.locator("#thread > .turn")).to_have_count(1)
    assert sent == []


def test_phone_sized_screen_in_dark_mode(make_page, shots):
    page = make_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True, color_scheme="dark")
    open_chat(page)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 18, 18)"
    expect(page.locator("#examples .example").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    turn = ask(page, Q_CHAIR)
    expect(turn.locator(".answer-text")).to_contain_text("Phạm Xuân Thăng")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    question = page.locator("#question")
    expect(question).to_be_visible()
    expect(question).to_be_in_viewport(ratio=1)
    expect(page.locator("#send")).to_be_in_viewport(ratio=1)
    page.screenshot(path=shots / "06-phone.png")
    page.goto(f"/articles/{ARTICLE_CHAIR}#p3")
    expect(page.locator(".passage-target")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=shots / "07-phone-article.png")


def test_english_question_switches_labels(page, shots):
    open_chat(page)
    expect(page.locator("#new-chat")).to_have_text("Cuộc trò chuyện mới")
    turn = ask(page, Q_CHAIR_EN)
    expect(turn.locator(".answer-text")).to_contain_text("Phạm Xuân Thăng")
    assert turn.get_attribute("lang") == "en"
    assert turn.locator(".sources-title").first.text_content() == "Sources"
    expect(turn.locator("button.copy")).to_have_text("Copy")
    expect(turn.locator("a.card-link").first).to_contain_text("Open article")
    expect(page.locator("#new-chat")).to_have_text("New conversation")
    expect(page.locator("#question")).to_have_attribute("placeholder", "Ask about the articles…")
    expect(page.locator("#send")).to_have_attribute("aria-label", "Send question")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.screenshot(path=shots / "08-english.png")

    # The next Vietnamese question switches back; the English answer keeps its own labels.
    second = ask(page, Q_CHAIR)
    expect(second.locator(".sources-title").first).to_have_text("Nguồn")
    assert turn.locator(".sources-title").first.text_content() == "Sources"
    expect(page.locator("#new-chat")).to_have_text("Cuộc trò chuyện mới")


def test_errors_show_a_message_and_retry(page, shots):
    open_chat(page)
    earlier = ask(page, Q_GOLD)
    expect(earlier.locator(".not-found")).to_be_visible()

    page.route("**/api/ask", lambda route: route.abort())
    failed = ask(page, Q_CHAIR)
    error = failed.locator(".reply.error")
    expect(error).to_contain_text("Không kết nối được với máy chủ")
    page.unroute("**/api/ask")

    page.route("**/api/ask", lambda route: route.fulfill(
        status=500, content_type="application/json",
        body=json.dumps({"error": {"code": "internal_error", "message": "the service failed on this request"}})))
    failed.locator("button.retry").click()
    expect(error).to_contain_text("the service failed on this request")
    retry = failed.locator("button.retry")
    expect(retry).to_have_text("Thử lại")
    expect(page.locator("#question")).to_be_enabled()
    page.screenshot(path=shots / "09-error.png")
    page.unroute("**/api/ask")

    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as request:
        retry.click()
    assert json.loads(request.value.post_data)["question"] == Q_CHAIR
    expect(failed.locator(".answer-text")).to_contain_text("Phạm Xuân Thăng")
    expect(page.locator("#thread > .turn")).to_have_count(2)
    expect(earlier.locator(".not-found")).to_be_visible()
    expect(page.locator(".reply.error")).to_have_count(0)


def test_thread_survives_reload_and_new_conversation_clears_it(page):
    open_chat(page)
    ask(page, Q_CHAIR)
    stored = page.evaluate("sessionStorage.getItem('qa.chat.v1')")
    assert "<" not in json.loads(stored)["turns"][0]["question"]  # data, not markup
    page.reload()
    turn = page.locator("#thread > .turn")
    expect(turn).to_have_count(1)
    expect(turn.locator(".answer-text")).to_contain_text("Phạm Xuân Thăng")
    expect(turn.locator(".question-text")).to_contain_text(Q_CHAIR)
    expect(page.locator("#empty")).to_be_hidden()
    # A citation of the restored answer still works.
    turn.locator("button.cite").first.click()
    expect(turn.locator(".sources.source .card").first).to_have_class(re.compile(r"\bflash\b"))

    page.locator("#new-chat").click()
    expect(turn).to_have_count(0)
    expect(page.locator("#examples .example").first).to_be_visible()
    page.reload()
    expect(page.locator("#examples .example").first).to_be_visible()
    expect(page.locator("#thread > .turn")).to_have_count(0)
    # An example button asks its question.
    example = page.locator("#examples .example").first
    text = example.text_content()
    example.click()
    expect(page.locator("#thread > .turn .question-text")).to_contain_text(text)


def test_history_is_the_last_ten_entries_oldest_first(page):
    # A long conversation restored from sessionStorage (the page re-renders it from data).
    turns = [{"id": f"t{i}", "question": f"Câu hỏi {i}?", "lang": "vi", "status": "done", "error": None,
              "response": {"question": f"Câu hỏi {i}?", "resolved_question": f"Câu hỏi {i}?", "language": "vi",
                           "found": i % 2 == 0, "passages": [],
                           "answer": {"text": f"Trả lời {i}.", "citations": []} if i % 2 == 0 else None}}
             for i in range(7)]
    page.add_init_script("if (!sessionStorage.getItem('qa.chat.v1')) sessionStorage.setItem('qa.chat.v1', "
                         + json.dumps(json.dumps({"v": 1, "uiLang": "vi", "turns": turns})) + ")")
    open_chat(page)
    expect(page.locator("#thread > .turn")).to_have_count(7)
    expect(page.locator("#thread > .turn").nth(4).locator(".answer-text")).to_have_text("Trả lời 4.")
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as request:
        ask(page, Q_CHAIR)
    history = json.loads(request.value.post_data)["history"]
    assert len(history) == 10
    assert [h["role"] for h in history] == ["user", "assistant"] * 5
    assert history[0]["content"] == "Câu hỏi 2?" and history[1]["content"] == "Trả lời 2."
    assert history[-2]["content"] == "Câu hỏi 6?" and history[-1]["content"] == "Trả lời 6."
    assert history[3]["content"] == "Không tìm thấy câu trả lời trong các bài viết."


def test_copy_answer_with_citations(make_page, live_server):
    page = make_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    open_chat(page)
    turn = ask(page, Q_CHAIR)
    data = page.evaluate("JSON.parse(sessionStorage.getItem('qa.chat.v1')).turns[0].response.answer")
    copy = turn.locator("button.copy")
    copy.click()
    expect(copy).to_have_text("Đã chép")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{data['short']}\n\n{data['text']}")
    first = data["citations"][0]
    assert f"[1] {first['title']} — {live_server}{first['url']}" in copied.splitlines()
    assert f"{live_server}/articles/{ARTICLE_CHAIR}" in copied


def test_short_answer_comes_first_in_bold_and_is_marked_in_its_source_and_article(page, shots):
    open_chat(page)
    turn = ask(page, Q_CHAIR)
    short = turn.locator(".answer-short strong")
    expect(short).to_have_text("Phạm Xuân Thăng")
    classes = turn.locator(".answer-short, .answer-text").evaluate_all("nodes => nodes.map(n => n.className)")
    assert classes == ["answer-short", "answer-text"]
    # In the source card: the sentence is marked, the answer inside it is the stronger mark.
    card = turn.locator(".sources.source .card", has=page.locator("strong.answer-span"))
    expect(card).to_have_count(1)
    expect(card.locator(".card-text mark strong.answer-span")).to_have_text("Phạm Xuân Thăng")
    weight = card.locator("strong.answer-span").evaluate("n => getComputedStyle(n).fontWeight")
    assert int(weight) >= 700
    page.screenshot(path=shots / "04-short-answer.png")
    # The article page marks the same sentence and, inside it, the answer.
    card.locator("a.card-link").click()
    page.wait_for_url(re.compile(r"\?sentence=\d+-\d+&answer=\d+-\d+#p\d+$"))
    expect(page.locator(".passage-target mark.answer-sentence strong.answer-span")).to_have_text("Phạm Xuân Thăng")
    expect(page.locator("mark.answer-sentence")).to_contain_text("chủ trì hội nghị lần thứ 53")
    expect(page.locator(".passage-target")).to_be_in_viewport()
    # Offsets that do not fit the article are ignored, not shown wrongly.
    page.goto(page.url.split("?")[0] + "?sentence=999999-1000000&answer=5-2#p0")
    expect(page.locator(".passage-target")).to_have_count(1)
    expect(page.locator("strong.answer-span")).to_have_count(0)
    assert page.watch.errors == []


def test_copy_falls_back_without_clipboard_api(make_page, live_server):
    page = make_page()
    # No async clipboard: the hidden-textarea fallback must still copy (recorded at the copy event).
    page.add_init_script("""Object.defineProperty(navigator, 'clipboard', {value: undefined});
        document.addEventListener('copy', () => { window.__copied = document.getSelection().toString()
            || (document.activeElement && document.activeElement.value); });""")
    open_chat(page)
    turn = ask(page, Q_CHAIR)
    turn.locator("button.copy").click()
    expect(turn.locator("button.copy")).to_have_text("Đã chép")
    copied = page.evaluate("window.__copied")
    assert "Phạm Xuân Thăng" in copied and "[1] " in copied and live_server + "/articles/" in copied


def test_security_headers_and_no_csp_violations(page, live_server):
    response = page.goto("/")
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    for asset, kind in (("/static/app.js", "javascript"), ("/static/style.css", "text/css")):
        with urllib.request.urlopen(live_server + asset) as r:
            assert kind in r.headers["Content-Type"]
    turn = ask(page, Q_CHAIR)
    turn.locator("button.cite").first.click()
    turn.locator("a.card-link").first.click()
    expect(page.locator(".passage-target")).to_be_visible()
    csp_errors = [e for e in page.watch.errors if "Content Security Policy" in e or "Refused" in e]
    assert csp_errors == [] and page.watch.errors == []
    assert page.evaluate("window.__csp") == []


Q_NOVEMBER = "Hội nghị trực tuyến tháng 11/2019 có bao nhiêu điểm cầu?"


def test_a_date_filter_limits_the_answer_and_shows_as_a_removable_chip(page, shots):
    open_chat(page)
    page.fill("#filter-from", "2020-01-01")
    page.dispatch_event("#filter-from", "change")
    chip = page.locator("#chips .chip")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("2020")
    turn = ask(page, Q_CHAIR)
    expect(turn.locator(".answer-short strong")).to_have_text("Phạm Xuân Thăng")
    articles = turn.locator(".card").evaluate_all("nodes => nodes.map(n => n.dataset.articleId)")
    assert articles and set(articles) == {ARTICLE_CHAIR}
    expect(turn.locator(".scope-note")).to_contain_text("4")  # the three undated seeds and the markup article
    expect(turn.locator(".card-meta time").first).to_contain_text("2022")
    page.screenshot(path=shots / "08-date-filter.png")
    # Removing the chip clears the filter: the next question searches everything again.
    chip.locator(".chip-remove").click()
    expect(page.locator("#chips .chip")).to_have_count(0)
    assert page.input_value("#filter-from") == ""
    turn = ask(page, Q_GUIDE)
    assert ARTICLE_GUIDE in turn.locator(".card").evaluate_all("nodes => nodes.map(n => n.dataset.articleId)")
    assert page.watch.errors == []


def test_the_time_named_in_a_question_is_a_chip_that_asks_again_without_it(page, shots):
    open_chat(page)
    sent = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/api/ask") else None)
    turn = ask(page, Q_NOVEMBER)
    time_chip = turn.locator(".time-chip")
    expect(time_chip).to_contain_text("tháng 11/2019")
    expect(turn.locator(".answer-short strong")).to_have_text("16 điểm cầu")
    page.screenshot(path=shots / "09-time-chip.png")
    # Keyboard: focus the chip's button and press Enter; the same turn is asked again without the time.
    time_chip.locator(".chip-remove").focus()
    page.keyboard.press("Enter")
    turn = page.locator("#thread > .turn").nth(0)
    expect(turn.locator(".time-chip")).to_have_count(0)
    expect(page.locator("#thread > .turn")).to_have_count(1)
    assert [body["question_time"] for body in sent] == [True, False]
    assert page.watch.errors == []


def test_article_list_sorts_by_date_and_searches_titles(page):
    page.goto("/articles")
    items = page.locator("#article-list .list-item")
    expect(items).to_have_count(7)
    first = items.first.locator("a.list-item-title")
    expect(first).to_have_attribute("href", f"/articles/{ARTICLE_CHAIR}")
    expect(items.nth(1).locator("a.list-item-title")).to_have_attribute("href", f"/articles/{ARTICLE_GUIDE}")
    page.select_option("#list-sort", "title")
    expect(page).to_have_url(re.compile(r"/articles\?sort=title$"))
    expect(items.first.locator("a")).to_have_text(re.compile(r"^<script>"))  # a title, shown as text
    expect(items.nth(1).locator("a")).to_have_attribute("href", f"/articles/{ARTICLE_CHAIR}")  # "Đẩy…" sorts as "D"
    page.fill("#list-q", "truc tuyen")
    expect(items).to_have_count(1)
    expect(items.first.locator("a")).to_have_attribute("href", f"/articles/{ARTICLE_GUIDE}")
    items.first.locator("a").click()
    expect(page.locator("#article-title")).to_contain_text("Hội nghị trực tuyến")
    assert page.watch.errors == [] and page.watch.dialogs == []


def test_filters_fit_a_phone_screen(make_page):
    page = make_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    open_chat(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    for selector in ("#filter-from", "#filter-to", "#question"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360

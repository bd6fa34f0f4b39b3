// Chat and article pages of the news question-answering service.
// Plain ES2020, no framework. Article text, titles and questions are only ever inserted as text
// nodes; highlights are built from text nodes and <mark> elements (the CSP forbids inline code anyway).
'use strict';

(() => {
  const STORAGE_KEY = 'qa.chat.v1';
  const HISTORY_LIMIT = 10; // history entries sent with a question (user + assistant, oldest first)
  const MAX_ENTRY_CHARS = 4000; // the API refuses longer history entries
  const TOP_K = 5;
  const REQUEST_TIMEOUT_MS = 60000;
  const FLASH_MS = 1800;
  const VIETNAMESE_LETTERS = /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/i;

  // Every UI string, in both languages. Functions take a number or a status.
  const STRINGS = {
    vi: {
      brand: 'Hỏi đáp tin tức',
      skipToQuestion: 'Đến ô câu hỏi',
      newChat: 'Cuộc trò chuyện mới',
      backToChat: 'Quay lại trò chuyện',
      welcomeTitle: 'Hỏi đáp về các bài viết',
      welcomeText: 'Đặt câu hỏi bằng tiếng Việt hoặc tiếng Anh. Câu trả lời được trích từ các bài viết, kèm nguồn để bạn kiểm tra.',
      examplesTitle: 'Thử hỏi',
      questionLabel: 'Câu hỏi của bạn',
      placeholder: 'Hỏi về các bài viết…',
      composerHint: 'Enter để gửi · Shift+Enter để xuống dòng',
      send: 'Gửi câu hỏi',
      you: 'Bạn hỏi:',
      searching: 'Đang tìm…',
      sources: 'Nguồn',
      related: 'Liên quan',
      moreRelated: (n) => `Các đoạn liên quan khác (${n})`,
      notFound: 'Không tìm thấy câu trả lời trong các bài viết.',
      openArticle: 'Xem bài viết',
      citation: (n) => `Nguồn ${n}`,
      copy: 'Chép',
      copyLabel: 'Chép câu trả lời kèm nguồn',
      copied: 'Đã chép',
      copyFailed: 'Không chép được',
      retry: 'Thử lại',
      errorPrefix: 'Lỗi:',
      networkError: 'Không kết nối được với máy chủ. Hãy kiểm tra mạng rồi thử lại.',
      timeout: 'Máy chủ phản hồi quá lâu.',
      interrupted: 'Câu hỏi chưa được trả lời vì trang đã được tải lại.',
      invalidResponse: 'Máy chủ trả về dữ liệu không đọc được.',
      httpError: (status) => `Máy chủ trả về lỗi ${status}.`,
      answered: 'Đã có câu trả lời.',
      loadingArticle: 'Đang tải bài viết…',
      articleNotFound: 'Không tìm thấy bài viết này.',
      articleError: 'Không tải được bài viết.',
      by: 'Tác giả:',
      captions: 'Chú thích ảnh',
      originalSource: 'Xem bài gốc',
      alsoPublishedAt: 'Cũng đăng tại',
      cleared: 'Đã bắt đầu cuộc trò chuyện mới.',
      articles: 'Bài viết',
      filtersLegend: 'Giới hạn tìm kiếm',
      dateFrom: 'Từ ngày',
      dateTo: 'Đến ngày',
      source: 'Nguồn',
      allSources: 'Mọi nguồn',
      chipFrom: (d) => `Từ ${d}`,
      chipTo: (d) => `Đến ${d}`,
      removeFilter: (label) => `Bỏ bộ lọc: ${label}`,
      timeChip: (text) => `Thời gian: ${text}`,
      newestFirst: 'mới nhất trước',
      removeTime: (text) => `Bỏ “${text}” và hỏi lại`,
      excludedUndated: (n) => `${n} bài không ghi ngày đã bị bộ lọc ngày loại ra.`,
      titleSearch: 'Tìm trong tiêu đề',
      sortBy: 'Sắp xếp',
      sortDate: 'Mới nhất',
      sortTitle: 'Theo tiêu đề',
      listEmpty: 'Không có bài viết nào.',
      listCount: (n) => `${n} bài viết`,
      loadingList: 'Đang tải danh sách…',
      listError: 'Không tải được danh sách bài viết.',
      locale: 'vi-VN',
    },
    en: {
      brand: 'News Q&A',
      skipToQuestion: 'Skip to the question box',
      newChat: 'New conversation',
      backToChat: 'Back to the chat',
      welcomeTitle: 'Ask about the articles',
      welcomeText: 'Ask in Vietnamese or English. Answers are quoted from the articles, with their sources so you can check them.',
      examplesTitle: 'Try asking',
      questionLabel: 'Your question',
      placeholder: 'Ask about the articles…',
      composerHint: 'Enter to send · Shift+Enter for a new line',
      send: 'Send question',
      you: 'You asked:',
      searching: 'Searching…',
      sources: 'Sources',
      related: 'Related',
      moreRelated: (n) => `Other related passages (${n})`,
      notFound: 'No answer found in the articles.',
      openArticle: 'Open article',
      citation: (n) => `Source ${n}`,
      copy: 'Copy',
      copyLabel: 'Copy the answer with its sources',
      copied: 'Copied',
      copyFailed: 'Could not copy',
      retry: 'Retry',
      errorPrefix: 'Error:',
      networkError: 'Could not reach the server. Check your connection and try again.',
      timeout: 'The server took too long to answer.',
      interrupted: 'This question was not answered because the page was reloaded.',
      invalidResponse: 'The server sent a response that could not be read.',
      httpError: (status) => `The server answered with error ${status}.`,
      answered: 'Answer received.',
      loadingArticle: 'Loading the article…',
      articleNotFound: 'This article was not found.',
      articleError: 'The article could not be loaded.',
      by: 'By',
      captions: 'Photo captions',
      originalSource: 'Original article',
      alsoPublishedAt: 'Also published at',
      cleared: 'Started a new conversation.',
      articles: 'Articles',
      filtersLegend: 'Limit the search',
      dateFrom: 'From',
      dateTo: 'To',
      source: 'Source',
      allSources: 'All sources',
      chipFrom: (d) => `From ${d}`,
      chipTo: (d) => `To ${d}`,
      removeFilter: (label) => `Remove filter: ${label}`,
      timeChip: (text) => `Time: ${text}`,
      newestFirst: 'newest first',
      removeTime: (text) => `Ignore “${text}” and ask again`,
      excludedUndated: (n) => `${n} undated articles were left out by the date filter.`,
      titleSearch: 'Search the titles',
      sortBy: 'Sort',
      sortDate: 'Newest first',
      sortTitle: 'By title',
      listEmpty: 'No articles.',
      listCount: (n) => `${n} articles`,
      loadingList: 'Loading the list…',
      listError: 'The list of articles could not be loaded.',
      locale: 'en-GB',
    },
  };

  const $ = (id) => document.getElementById(id);
  const state = { uiLang: browserLang(), turns: [], busy: false, controller: null, examples: null,
    filters: { date_from: '', date_to: '', source: '' } };

  // ---------- small helpers ----------

  function browserLang() {
    return (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'vi';
  }

  function t(lang, key, ...args) {
    const value = (STRINGS[lang] || STRINGS.vi)[key];
    return typeof value === 'function' ? value(...args) : value;
  }

  // Build an element; children may be nodes or strings (strings always become text nodes).
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    node.append(...children.filter((c) => c !== null && c !== undefined && c !== ''));
    return node;
  }

  // Vietnamese letters mark Vietnamese text; anything else inherits the surrounding language.
  function textLang(text) {
    return VIETNAMESE_LETTERS.test(text || '') ? 'vi' : null;
  }

  function newId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 7);
  }

  // A same-origin path from the API, or one built from the ids (never a javascript: URL).
  function articleHref(url, articleId, index) {
    if (typeof url === 'string' && url.startsWith('/') && !url.startsWith('//')) return url;
    return `/articles/${encodeURIComponent(articleId || '')}` + (Number.isInteger(index) ? `#p${index}` : '');
  }

  function formatDate(value, lang) {
    if (!value) return '';
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
    if (!m) return String(value);
    // The calendar date as written by the newspaper, not shifted to the reader's time zone.
    const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return new Intl.DateTimeFormat(t(lang, 'locale'), { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
  }

  // The API counts offsets in code points; JavaScript strings index UTF-16 units.
  function offsetMapper(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return (i) => Math.max(0, Math.min(i, text.length));
    const units = [0];
    for (const ch of text) units.push(units[units.length - 1] + ch.length);
    return (i) => units[Math.max(0, Math.min(i, units.length - 1))];
  }

  // Text with the given code-point ranges wrapped in <mark>, as a fragment of text nodes; `strong`, a range
  // inside one of them, is the short answer: a second, stronger mark inside the first.
  function highlighted(text, ranges, strong = null) {
    const map = offsetMapper(text);
    const spans = (ranges || [])
      .map((r) => [map(r.start), map(r.end)])
      .filter(([a, b]) => b > a)
      .sort((x, y) => x[0] - y[0]);
    const inner = strong ? [map(strong.start), map(strong.end)] : null;
    const fragment = document.createDocumentFragment();
    let pos = 0;
    for (const [a, b] of spans) {
      const start = Math.max(a, pos);
      if (b <= start) continue; // overlapping ranges: merged into the previous mark
      if (start > pos) fragment.append(text.slice(pos, start));
      fragment.append(el('mark', {}, ...withStrong(text, start, b, inner)));
      pos = b;
    }
    if (pos < text.length) fragment.append(text.slice(pos));
    return fragment;
  }

  // text[a:b] as nodes, the part inside `inner` (when it lies within) in <strong class="answer-span">.
  function withStrong(text, a, b, inner) {
    if (!inner || inner[0] < a || inner[1] > b || inner[1] <= inner[0]) return [text.slice(a, b)];
    return [text.slice(a, inner[0]), el('strong', { class: 'answer-span' }, text.slice(inner[0], inner[1])),
      text.slice(inner[1], b)].filter((part) => typeof part !== 'string' || part);
  }

  function announce(message) {
    const status = $('status');
    if (!status) return;
    status.textContent = '';
    // A fresh text node on the next frame makes screen readers repeat identical messages.
    requestAnimationFrame(() => { status.textContent = message; });
  }

  // ---------- static labels ----------

  function applyStaticStrings(lang) {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(lang, node.dataset.i18n);
    const question = $('question');
    question.placeholder = t(lang, 'placeholder');
    $('send').setAttribute('aria-label', t(lang, 'send'));
    $('new-chat').title = t(lang, 'newChat'); // a tooltip where the label is hidden (phones)
    if (!location.pathname.startsWith('/articles/')) document.title = t(lang, 'brand');
  }

  // ---------- storage: the thread's data, re-rendered on load ----------

  function save() {
    const data = { v: 1, uiLang: state.uiLang, filters: state.filters, turns: state.turns.map(({ id, question, lang, status, response, error, filters, questionTime }) => ({ id, question, lang, status, response, error, filters, questionTime })) };
    for (let drop = 0; drop <= data.turns.length; drop += 1) {
      try {
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ ...data, turns: data.turns.slice(drop) }));
        return;
      } catch (err) {
        if (!(err instanceof DOMException)) return; // storage disabled: the chat still works
      }
    }
  }

  function restore() {
    let data;
    try {
      data = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    } catch (err) {
      return;
    }
    if (!data || data.v !== 1 || !Array.isArray(data.turns)) return;
    if (STRINGS[data.uiLang]) state.uiLang = data.uiLang;
    if (data.filters && typeof data.filters === 'object') {
      for (const key of Object.keys(state.filters)) {
        if (typeof data.filters[key] === 'string') state.filters[key] = data.filters[key];
      }
    }
    state.turns = data.turns
      .filter((turn) => turn && typeof turn.question === 'string' && typeof turn.id === 'string')
      .map((turn) => (turn.status === 'done' && turn.response && Array.isArray(turn.response.passages)
        ? turn
        // A request that was running when the page unloaded never finished.
        : { ...turn, status: 'error', response: null, error: turn.status === 'error' && turn.error ? turn.error : { kind: 'interrupted' } }));
  }

  // ---------- the API ----------

  function historyBefore(turn) {
    const entries = [];
    for (const previous of state.turns) {
      if (previous === turn) break;
      if (previous.status !== 'done') continue;
      const r = previous.response;
      const reply = r.found && r.answer ? r.answer.text : t(previous.lang, 'notFound');
      entries.push({ role: 'user', content: previous.question.slice(0, MAX_ENTRY_CHARS) });
      entries.push({ role: 'assistant', content: reply.slice(0, MAX_ENTRY_CHARS) });
    }
    return entries.slice(-HISTORY_LIMIT);
  }

  async function postAsk(body) {
    const controller = new AbortController();
    state.controller = controller;
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch('/api/ask', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        const message = data && data.error && typeof data.error.message === 'string' ? data.error.message : null;
        throw { kind: 'http', status: response.status, message };
      }
      if (!data || !Array.isArray(data.passages)) throw { kind: 'invalid' };
      return data;
    } catch (err) {
      if (err && err.kind) throw err;
      if (timedOut) throw { kind: 'timeout' };
      if (controller.signal.aborted) throw { kind: 'aborted' };
      throw { kind: 'network' };
    } finally {
      clearTimeout(timer);
      if (state.controller === controller) state.controller = null;
    }
  }

  function errorText(error, lang) {
    if (!error) return t(lang, 'networkError');
    if (error.kind === 'http') return error.message ? `${t(lang, 'errorPrefix')} ${error.message}` : t(lang, 'httpError', error.status);
    const key = { timeout: 'timeout', interrupted: 'interrupted', invalid: 'invalidResponse' }[error.kind] || 'networkError';
    return t(lang, key);
  }

  // ---------- asking ----------

  async function ask(question, retryTurn = null) {
    question = (question || '').trim();
    if (state.busy || !question) return;
    const turn = retryTurn || { id: newId(), question, lang: state.uiLang, filters: filtersBody(), questionTime: true };
    Object.assign(turn, { status: 'pending', response: null, error: null });
    if (!retryTurn) state.turns.push(turn);
    setBusy(true);
    showTurn(turn);
    save();
    announce(t(turn.lang, 'searching'));
    try {
      const body = { question, top_k: TOP_K, history: historyBefore(turn), question_time: turn.questionTime !== false };
      if (turn.filters) body.filters = turn.filters;
      const response = await postAsk(body);
      Object.assign(turn, { status: 'done', response });
      if (STRINGS[response.language]) state.uiLang = turn.lang = response.language;
    } catch (error) {
      Object.assign(turn, { status: 'error', error });
    }
    if (!state.turns.includes(turn)) return; // the conversation was cleared meanwhile
    setBusy(false);
    applyStaticStrings(state.uiLang);
    const node = showTurn(turn);
    save();
    announce(turn.status === 'done' ? (turn.response.found ? t(turn.lang, 'answered') : t(turn.lang, 'notFound')) : errorText(turn.error, turn.lang));
    node.scrollIntoView({ block: 'start' });
    // Disabling the textarea dropped its focus; give it back unless the user moved elsewhere.
    if (!document.activeElement || document.activeElement === document.body) $('question').focus({ preventScroll: true });
  }

  function setBusy(busy) {
    state.busy = busy;
    $('question').disabled = busy;
    $('send').disabled = busy;
    $('thread').setAttribute('aria-busy', String(busy));
    for (const button of document.querySelectorAll('.retry, .example, .chip-remove')) button.disabled = busy;
  }

  function newConversation() {
    if (state.controller) state.controller.abort();
    state.turns = [];
    setBusy(false);
    save();
    renderThread();
    announce(t(state.uiLang, 'cleared'));
    $('question').focus();
  }

  // ---------- rendering the thread ----------

  function renderThread() {
    const thread = $('thread');
    thread.replaceChildren(...state.turns.map(renderTurn));
    updateEmpty();
  }

  // Replace (or add) one turn's element in place, so nothing else in the thread changes.
  function showTurn(turn) {
    const node = renderTurn(turn);
    const old = document.querySelector(`.turn[data-turn-id="${CSS.escape(turn.id)}"]`);
    if (old) old.replaceWith(node);
    else $('thread').append(node);
    updateEmpty();
    if (turn.status === 'pending') node.scrollIntoView({ block: 'end' });
    return node;
  }

  function updateEmpty() {
    const empty = state.turns.length === 0;
    $('empty').hidden = !empty;
    if (empty) loadExamples();
  }

  function renderTurn(turn) {
    const lang = turn.lang || state.uiLang;
    const node = el('article', { class: 'turn', 'data-turn-id': turn.id, lang });
    node.append(el('div', { class: 'question' },
      el('h2', { class: 'question-text', lang: textLang(turn.question) },
        el('span', { class: 'visually-hidden', lang }, t(lang, 'you') + ' '), turn.question)));
    if (turn.status === 'pending') {
      node.append(el('div', { class: 'reply pending' },
        el('span', { class: 'spinner', 'aria-hidden': 'true' }), t(lang, 'searching')));
    } else if (turn.status === 'error') {
      const retry = el('button', { type: 'button', class: 'btn btn-secondary retry' }, t(lang, 'retry'));
      retry.disabled = state.busy;
      retry.addEventListener('click', () => ask(turn.question, turn));
      node.append(el('div', { class: 'reply error', role: 'alert' }, el('p', {}, errorText(turn.error, lang)), retry));
    } else {
      node.append(renderReply(turn, lang));
    }
    return node;
  }

  function renderReply(turn, lang) {
    const r = turn.response;
    const reply = el('div', { class: 'reply' });
    const scope = scopeNotes(turn, r, lang);
    if (scope) reply.append(scope);
    const passages = uniqueBy(r.passages || [], (p) => p.id);
    if (!(r.found && r.answer)) {
      reply.append(el('p', { class: 'not-found' }, t(lang, 'notFound')));
      if (passages.length) reply.append(sourcesSection(t(lang, 'related'), passages, turn, lang, 'related'));
      return reply;
    }
    // Cited passages first, in citation order; one card per passage even if cited twice.
    const citations = (r.answer.citations || []).slice().sort((a, b) => a.n - b.n);
    const numbers = new Map();
    for (const c of citations) numbers.set(c.passage_id, [...(numbers.get(c.passage_id) || []), c.n]);
    const byId = new Map(passages.map((p) => [p.id, p]));
    const cited = [...numbers.keys()].map((id) => byId.get(id) || citationPassage(citations.find((c) => c.passage_id === id)));
    const others = passages.filter((p) => !numbers.has(p.id));
    const cardIds = new Map();
    cited.forEach((p, i) => cardIds.set(p.id, cardId(turn, 's', i)));

    if (r.answer.short) {
      reply.append(el('p', { class: 'answer-short', lang: textLang(r.answer.short) }, el('strong', {}, r.answer.short)));
    }
    reply.append(answerText(r.answer, citations, cardIds, lang));
    reply.append(el('div', { class: 'answer-actions' }, copyButton(r.answer, lang)));
    reply.append(sourcesSection(t(lang, 'sources'), cited, turn, lang, 'source', numbers, r.answer.short_source));
    if (others.length) {
      const details = el('details', { class: 'more' }, el('summary', {}, t(lang, 'moreRelated', others.length)));
      details.append(cardList(others, turn, lang, 'related'));
      reply.append(details);
    }
    return reply;
  }

  // The time understood from the question (a chip that asks again without it) and what a date filter left out.
  function scopeNotes(turn, r, lang) {
    const notes = [];
    if (r.time && r.time.from_question) {
      const text = r.time.text || [r.time.from, r.time.to].filter(Boolean).join(' – ');
      const label = r.time.recency && !r.time.from ? `${text} (${t(lang, 'newestFirst')})` : text;
      const remove = el('button', { type: 'button', class: 'chip-remove', 'aria-label': t(lang, 'removeTime', text), title: t(lang, 'removeTime', text) }, '×');
      remove.disabled = state.busy;
      remove.addEventListener('click', () => {
        turn.questionTime = false;
        ask(turn.question, turn);
      });
      notes.push(el('ul', { class: 'chips reply-chips' },
        el('li', { class: 'chip time-chip' }, el('span', {}, t(lang, 'timeChip', label)), remove)));
    }
    if (r.excluded_undated > 0) notes.push(el('p', { class: 'scope-note' }, t(lang, 'excludedUndated', r.excluded_undated)));
    return notes.length ? el('div', { class: 'scope' }, ...notes) : null;
  }

  function uniqueBy(items, key) {
    const seen = new Set();
    return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)));
  }

  // A card for a citation whose passage is missing from the list (should not happen).
  function citationPassage(c) {
    return { id: c.passage_id, article_id: c.article_id, title: c.title, url: c.url, text: '', highlights: [] };
  }

  function cardId(turn, kind, i) {
    return `card-${turn.id}-${kind}${i}`;
  }

  function answerText(answer, citations, cardIds, lang) {
    const p = el('p', { class: 'answer-text', lang: textLang(answer.text) });
    const byNumber = new Map(citations.map((c) => [c.n, c]));
    let last = 0;
    for (const m of answer.text.matchAll(/\[(\d+)\]/g)) {
      const c = byNumber.get(Number(m[1]));
      if (!c) continue; // not a citation: stays as plain text
      p.append(answer.text.slice(last, m.index), citeButton(c, cardIds.get(c.passage_id), lang));
      last = m.index + m[0].length;
    }
    p.append(answer.text.slice(last));
    return p;
  }

  function citeButton(citation, targetId, lang) {
    const button = el('button', {
      type: 'button', class: 'cite', 'aria-controls': targetId,
      'aria-label': `[${citation.n}] ${t(lang, 'citation', citation.n)}: ${citation.title || ''}`,
    }, `[${citation.n}]`);
    button.addEventListener('click', () => flashCard($(targetId)));
    return button;
  }

  function flashCard(card) {
    if (!card) return;
    const reduced = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    card.classList.remove('flash');
    void card.offsetWidth; // restart the animation when the same citation is clicked again
    card.classList.add('flash');
    card.scrollIntoView({ block: 'center', behavior: reduced ? 'auto' : 'smooth' });
    card.focus({ preventScroll: true });
    clearTimeout(card.flashTimer);
    card.flashTimer = setTimeout(() => card.classList.remove('flash'), FLASH_MS);
  }

  function sourcesSection(title, passages, turn, lang, kind, numbers = new Map(), short = null) {
    const headingId = cardId(turn, kind, 'h');
    return el('section', { class: `sources ${kind}`, 'aria-labelledby': headingId },
      el('h3', { id: headingId, class: 'sources-title' }, title),
      cardList(passages, turn, lang, kind, numbers, short));
  }

  function cardList(passages, turn, lang, kind, numbers = new Map(), short = null) {
    const list = el('ol', { class: 'cards' });
    passages.forEach((p, i) => list.append(card(p, cardId(turn, kind === 'source' ? 's' : 'r', i), lang, kind,
      numbers.get(p.id), short && short.passage_id === p.id ? short : null)));
    return list;
  }

  function card(passage, id, lang, kind, numbers, short = null) {
    const title = passage.title || passage.article_id || '';
    const date = formatDate(passage.date, lang);
    const href = articleHref(passage.url, passage.article_id, passage.index);
    const head = el('div', { class: 'card-head' });
    if (numbers && numbers.length) head.append(el('span', { class: 'badge', 'aria-hidden': 'true' }, numbers.join(', ')));
    head.append(el('h4', { class: 'card-title', lang: textLang(title) }, title));
    const node = el('li', {
      class: `card ${kind}`, id, tabindex: '-1',
      'data-passage-id': passage.id, 'data-article-id': passage.article_id,
    }, head);
    const site = isWebUrl(passage.original_url) ? siteName(passage.source, passage.original_url) : null;
    if (date || site) {
      node.append(el('p', { class: 'card-meta' }, date ? el('time', { datetime: passage.date }, date) : null,
        date && site ? ' · ' : null, site ? el('span', { class: 'site' }, site) : null));
    }
    const origin = cardOrigin(passage, lang);
    if (origin) node.append(origin);
    if (passage.text) {
      const text = el('p', { class: 'card-text', lang: textLang(passage.text) });
      text.append(highlighted(passage.text, passage.highlights, short));
      node.append(text);
    }
    node.append(el('a', { class: 'card-link', href, 'aria-label': `${t(lang, 'openArticle')}: ${title}` },
      t(lang, 'openArticle'), el('span', { 'aria-hidden': 'true' }, ' →')));
    return node;
  }

  function isWebUrl(url) {
    return typeof url === 'string' && /^https?:\/\//i.test(url);
  }

  function siteName(source, url) {
    return (typeof source === 'string' && source.trim() && !source.includes('/')) ? source : new URL(url).host;
  }

  // A web article's card links to the original page (its site is named in the card's meta line).
  function cardOrigin(passage, lang) {
    if (!isWebUrl(passage.original_url)) return null;
    return el('p', { class: 'card-origin' },
      el('a', { href: passage.original_url, rel: 'noopener noreferrer', lang }, t(lang, 'originalSource')));
  }

  // ---------- copying ----------

  function copyButton(answer, lang) {
    const label = el('span', {}, t(lang, 'copy'));
    const button = el('button', { type: 'button', class: 'btn btn-secondary copy', title: t(lang, 'copyLabel') }, label);
    button.addEventListener('click', async () => {
      const ok = await copyToClipboard(plainAnswer(answer));
      label.textContent = t(lang, ok ? 'copied' : 'copyFailed');
      announce(label.textContent);
      clearTimeout(button.resetTimer);
      button.resetTimer = setTimeout(() => { label.textContent = t(lang, 'copy'); }, 2500);
    });
    return button;
  }

  // The short answer, the supporting sentences, then one line per citation: "[n] Title — absolute URL".
  function plainAnswer(answer) {
    const lines = (answer.citations || []).slice().sort((a, b) => a.n - b.n)
      .map((c) => `[${c.n}] ${c.title} — ${new URL(articleHref(c.url, c.article_id), location.origin).href}`);
    return [...(answer.short ? [answer.short, ''] : []), answer.text.trim(), '', ...lines].join('\n');
  }

  async function copyToClipboard(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch (err) {
      // Permission refused or no user activation: fall through to the old way.
    }
    const area = el('textarea', { class: 'clipboard-helper', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
    area.value = text;
    const focused = document.activeElement;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (err) {
      ok = false;
    }
    area.remove();
    if (focused && focused.focus) focused.focus({ preventScroll: true });
    return ok;
  }

  // ---------- examples ----------

  async function loadExamples() {
    if (state.examples === null) {
      state.examples = [];
      try {
        const response = await fetch('/api/examples', { headers: { Accept: 'application/json' } });
        const data = response.ok ? await response.json() : [];
        state.examples = Array.isArray(data) ? data.filter((e) => e && typeof e.question === 'string') : [];
      } catch (err) {
        state.examples = []; // no examples: the empty chat still explains itself
      }
    }
    const list = $('examples');
    list.replaceChildren(...state.examples.map((example) => {
      const button = el('button', { type: 'button', class: 'example', lang: textLang(example.question) }, example.question);
      button.disabled = state.busy;
      button.addEventListener('click', () => ask(example.question));
      return el('li', {}, button);
    }));
    $('examples-title').hidden = state.examples.length === 0;
  }

  // ---------- the chat page ----------

  function autoResize(area) {
    area.style.height = 'auto'; // CSSOM, allowed by the CSP (unlike style attributes in markup)
    area.style.height = `${Math.min(area.scrollHeight, 200)}px`;
  }

  // ---------- filters ----------

  const FILTER_INPUTS = { date_from: 'filter-from', date_to: 'filter-to', source: 'filter-source' };

  // The composer's filters as the API takes them, or null when none is set.
  function filtersBody() {
    const f = state.filters;
    const body = {};
    if (f.date_from) body.date_from = f.date_from;
    if (f.date_to) body.date_to = f.date_to;
    if (f.source) body.sources = [f.source];
    return Object.keys(body).length ? body : null;
  }

  function chip(label, removeLabel, onRemove) {
    const remove = el('button', { type: 'button', class: 'chip-remove', 'aria-label': removeLabel, title: removeLabel }, '×');
    remove.addEventListener('click', onRemove);
    return el('li', { class: 'chip' }, el('span', {}, label), remove);
  }

  // One removable chip per active filter, under the inputs.
  function renderChips() {
    const lang = state.uiLang;
    const f = state.filters;
    const labels = {
      date_from: f.date_from && t(lang, 'chipFrom', formatDate(f.date_from, lang)),
      date_to: f.date_to && t(lang, 'chipTo', formatDate(f.date_to, lang)),
      source: f.source,
    };
    $('chips').replaceChildren(...Object.entries(labels).filter(([, label]) => label).map(([key, label]) =>
      chip(label, t(lang, 'removeFilter', label), () => { setFilter(key, ''); $('question').focus(); })));
    $('filter-to').min = f.date_from || '';
    $('filter-from').max = f.date_to || '';
  }

  function setFilter(key, value) {
    state.filters[key] = value;
    $(FILTER_INPUTS[key]).value = value;
    save();
    renderChips();
  }

  function hostOf(url) {
    try {
      return /^https?:/i.test(url || '') ? new URL(url).hostname.replace(/^www\./, '') : null;
    } catch (err) {
      return null;
    }
  }

  // The source filter appears once the corpus holds articles from several sites.
  async function loadSources() {
    let list;
    try {
      const response = await fetch('/api/articles', { headers: { Accept: 'application/json' } });
      list = await response.json();
    } catch (err) {
      return;
    }
    const hosts = [...new Set((Array.isArray(list) ? list : []).map((a) => hostOf(a.url)).filter(Boolean))].sort();
    if (hosts.length < 2) return;
    const select = $('filter-source');
    select.append(...hosts.map((h) => el('option', { value: h }, h)));
    select.value = state.filters.source;
    $('filter-source-label').hidden = false;
  }

  function startFilters() {
    for (const [key, id] of Object.entries(FILTER_INPUTS)) {
      const input = $(id);
      input.value = state.filters[key];
      input.addEventListener('change', () => setFilter(key, input.value));
    }
    renderChips();
    loadSources();
  }

  function startChat() {
    restore();
    applyStaticStrings(state.uiLang);
    renderThread();
    startFilters();
    const question = $('question');
    const form = $('composer');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = question.value.trim();
      if (!text || state.busy) {
        question.focus();
        return;
      }
      question.value = '';
      autoResize(question);
      ask(text);
    });
    question.addEventListener('keydown', (event) => {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition is neither.
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      if (question.value.trim()) form.requestSubmit();
    });
    question.addEventListener('input', () => autoResize(question));
    $('new-chat').addEventListener('click', newConversation);
    const navigation = performance.getEntriesByType('navigation')[0];
    if (state.turns.length && !(navigation && navigation.type === 'back_forward')) {
      $('thread').lastElementChild.scrollIntoView({ block: 'start' }); // a fresh visit resumes at the latest turn
    }
  }

  // ---------- the article page ----------

  function showPage(view) {
    document.body.classList.add(`${view}-page`);
    $('chat-view').hidden = true;
    $('composer').hidden = true;
    $('new-chat').hidden = true;
    document.querySelector('.skip-link').hidden = true;
    $(`${view}-view`).hidden = false;
    $('back-link').hidden = false;
  }

  // ---------- the list of articles ----------

  async function startList() {
    restore(); // only for the reader's language
    applyStaticStrings(state.uiLang);
    showPage('list');
    $('list-link').hidden = true;
    const lang = state.uiLang;
    document.title = `${t(lang, 'articles')} — ${t(lang, 'brand')}`;
    const sort = $('list-sort');
    const words = $('list-q');
    const params = new URLSearchParams(location.search);
    sort.value = params.get('sort') === 'title' ? 'title' : 'date';
    words.value = params.get('q') || '';
    let timer = null;
    const load = () => loadList(sort.value, words.value.trim(), lang);
    sort.addEventListener('change', load);
    words.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 250); });
    load();
  }

  async function loadList(sort, words, lang) {
    const query = new URLSearchParams(words ? { sort, q: words } : { sort });
    history.replaceState(null, '', `/articles?${query}`);
    const status = $('list-status');
    status.textContent = t(lang, 'loadingList');
    let list;
    try {
      const response = await fetch(`/api/articles?${query}`, { headers: { Accept: 'application/json' } });
      list = await response.json();
      if (!response.ok || !Array.isArray(list)) throw new Error(String(response.status));
    } catch (err) {
      status.textContent = t(lang, 'listError');
      return;
    }
    status.textContent = list.length ? t(lang, 'listCount', list.length) : t(lang, 'listEmpty');
    $('article-list').replaceChildren(...list.map((a) => listItem(a, lang)));
  }

  function listItem(a, lang) {
    const title = a.title || a.id;
    const site = hostOf(a.url);
    const date = formatDate(a.date, lang);
    return el('li', { class: 'list-item' },
      el('a', { class: 'list-item-title', href: articleHref(null, a.id), lang: textLang(title) }, title),
      (date || site) ? el('p', { class: 'card-meta' }, date ? el('time', { datetime: a.date }, date) : null,
        date && site ? ' · ' : null, site ? el('span', { class: 'site' }, site) : null) : null);
  }

  async function startArticle(id) {
    restore(); // only for the reader's language
    applyStaticStrings(state.uiLang);
    showPage('article');
    const lang = state.uiLang;
    const status = $('article-status');
    status.textContent = t(lang, 'loadingArticle');
    let response;
    let data = null;
    try {
      response = await fetch(`/api/articles/${id.split('/').map(encodeURIComponent).join('/')}`, { headers: { Accept: 'application/json' } });
      data = await response.json().catch(() => null);
    } catch (err) {
      status.textContent = `${t(lang, 'articleError')} ${t(lang, 'networkError')}`;
      return;
    }
    if (!response.ok || !data || typeof data.text !== 'string') {
      const message = data && data.error && data.error.message ? ` (${data.error.message})` : '';
      status.textContent = (response.status === 404 ? t(lang, 'articleNotFound') : t(lang, 'articleError')) + message;
      document.title = `${t(lang, 'articleNotFound')} — ${t(lang, 'brand')}`;
      status.classList.add('error');
      return;
    }
    status.textContent = '';
    renderArticle(data, lang);
    window.addEventListener('hashchange', () => renderArticle(data, lang));
  }

  // The original page (with its site's name) and the other sites that carried the same story.
  function renderOriginalSource(data, lang) {
    const source = $('article-source');
    source.hidden = !isWebUrl(data.url);
    if (source.hidden) return;
    const link = (url, label) => el('a', { href: url, rel: 'noopener noreferrer' }, label);
    source.replaceChildren(link(data.url, `${t(lang, 'originalSource')} — ${siteName(data.source, data.url)}`));
    const others = (Array.isArray(data.alternates) ? data.alternates : []).filter(isWebUrl);
    if (others.length) {
      source.append(el('br'), `${t(lang, 'alsoPublishedAt')}: `);
      others.forEach((url, i) => source.append(i ? ', ' : '', link(url, new URL(url).host)));
    }
  }

  function passageIndexFromHash() {
    const m = /^#p(\d+)$/.exec(location.hash);
    return m ? Number(m[1]) : null;
  }

  function renderArticle(data, lang) {
    const article = $('article');
    article.lang = data.language || textLang(data.text) || '';
    $('article-title').textContent = data.title || data.id;
    document.title = `${data.title || data.id} — ${t(lang, 'brand')}`;
    const meta = $('article-meta');
    meta.replaceChildren();
    meta.lang = lang;
    if (data.date) meta.append(el('time', { datetime: data.date }, formatDate(data.date, lang)));
    if (data.author) meta.append(el('span', { class: 'author' }, `${t(lang, 'by')} `, el('span', { lang: textLang(data.author) }, data.author)));
    renderOriginalSource(data, lang);
    const index = passageIndexFromHash();
    const passage = (data.passages || []).find((p) => p.index === index);
    $('article-body').replaceChildren(...articleBlocks(data.text, passage));
    const captions = (Array.isArray(data.captions) ? data.captions : []).filter((c) => typeof c === 'string' && c.trim());
    $('article-captions').hidden = captions.length === 0;
    $('article-captions').replaceChildren(
      el('h2', { class: 'captions-title', lang }, t(lang, 'captions')),
      el('ul', {}, ...captions.map((c) => el('li', {}, c))));
    article.hidden = false;
    const target = article.querySelector('.passage-target');
    if (target) {
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
    }
  }

  // The passage's range in the text (UTF-16), trusting the offsets only if they match its text.
  function passageRange(text, passage) {
    if (!passage) return null;
    const map = offsetMapper(text);
    const start = map(passage.start);
    const end = map(passage.end);
    if (end > start && (!passage.text || text.slice(start, end) === passage.text)) return [start, end];
    const found = passage.text ? text.indexOf(passage.text) : -1;
    return found >= 0 ? [found, found + passage.text.length] : null;
  }

  // The answer's sentence and short answer from the link (?sentence=a-b&answer=c-d, code points), as UTF-16 ranges.
  function answerMarks(text) {
    const params = new URLSearchParams(location.search);
    const range = (name) => {
      const m = /^(\d+)-(\d+)$/.exec(params.get(name) || '');
      return m && Number(m[2]) > Number(m[1]) ? [Number(m[1]), Number(m[2])] : null;
    };
    const map = offsetMapper(text);
    const sentence = range('sentence');
    const answer = range('answer');
    return {
      sentence: sentence && sentence.map(map),
      answer: answer && answer.map(map),
    };
  }

  // text[a:b] without its outer white space, the answer's sentence marked in it and the answer inside that.
  function pieceNodes(text, a, b, marks) {
    while (a < b && /\s/.test(text[a])) a += 1;
    while (b > a && /\s/.test(text[b - 1])) b -= 1;
    const s = marks.sentence;
    if (!s || s[1] <= a || s[0] >= b) return [text.slice(a, b)];
    const from = Math.max(a, s[0]);
    const to = Math.min(b, s[1]);
    return [text.slice(a, from), el('mark', { class: 'answer-sentence' }, ...withStrong(text, from, to, marks.answer)),
      text.slice(to, b)].filter((part) => typeof part !== 'string' || part);
  }

  // Paragraphs as <p>; the target passage is a <mark> inside one paragraph, or a block around several.
  function articleBlocks(text, passage) {
    const paragraphs = [];
    const gap = /\n\s*\n/g;
    let start = 0;
    for (const m of text.matchAll(gap)) {
      paragraphs.push([start, m.index]);
      start = m.index + m[0].length;
    }
    paragraphs.push([start, text.length]);
    const range = passageRange(text, passage);
    const marks = range ? answerMarks(text) : {};
    const plain = (a, b) => (text.slice(a, b).trim() ? [el('p', {}, ...pieceNodes(text, a, b, marks))] : []);
    if (!range) return paragraphs.flatMap(([a, b]) => plain(a, b));
    const [s, e] = range;
    const touched = paragraphs.filter(([a, b]) => b > s && a < e);
    const blocks = [];
    if (touched.length === 1) {
      for (const [a, b] of paragraphs) {
        if (b <= s || a >= e) { blocks.push(...plain(a, b)); continue; }
        blocks.push(el('p', {}, text.slice(a, Math.max(a, s)),
          el('mark', { class: 'passage-target', id: 'passage-target', tabindex: '-1' },
            ...pieceNodes(text, Math.max(a, s), Math.min(b, e), marks)),
          text.slice(Math.min(b, e), b)));
      }
      return blocks;
    }
    const wrapper = el('div', { class: 'passage-target block', id: 'passage-target', tabindex: '-1' });
    for (const [a, b] of paragraphs) {
      if (b <= s) blocks.push(...plain(a, b));
      else if (a >= e) blocks.push(...plain(a, b));
      else {
        if (a < s) blocks.push(...plain(a, s));
        wrapper.append(...plain(Math.max(a, s), Math.min(b, e)));
        if (!blocks.includes(wrapper)) blocks.push(wrapper);
        if (b > e) blocks.push(...plain(e, b));
      }
    }
    return blocks;
  }

  // ---------- start ----------

  function start() {
    if (/^\/articles\/?$/.test(location.pathname)) {
      startList();
      return;
    }
    const m = /^\/articles\/(.+)$/.exec(location.pathname);
    if (!m) {
      startChat();
      return;
    }
    let id = m[1];
    try {
      id = decodeURIComponent(id);
    } catch (err) {
      // A malformed escape: ask for the id as written; the API will say it does not exist.
    }
    startArticle(id);
  }

  start();
})();

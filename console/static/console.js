// Opastin staff console front end. Plain DOM, no framework, no CDN.
// Rule: text from the server (user messages above all) only ever goes into textContent or
// attribute values through the el() helper; nothing is parsed as HTML.
"use strict";

const state = { meta: null, trySender: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function safeUrl(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

async function api(method, path, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") options.headers["X-CSRF-Token"] = state.meta ? state.meta.csrf : "";
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    window.location.href = "/login";
    throw new Error("logged out");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function pct(x) {
  return x === null || x === undefined ? "–" : `${Math.round(x * 100)} %`;
}

function fmtTime(iso) {
  return iso ? iso.replace("T", " ").slice(0, 16) : "";
}

function showError(target, error) {
  target.replaceChildren(el("p", { class: "error", role: "alert" }, String(error.message || error)));
}

// ------------------------------------------------------------------ one turn, everywhere

function renderTurn(turn, options) {
  if (!turn.user) {
    const bots = turn.bot.map((m) => el("div", { class: "bubble bot" }, m.text));
    if (turn.session_start && !bots.length) {
      return el("div", { class: "session-mark" }, `session started ${fmtTime(new Date(turn.timestamp * 1000).toISOString())}`);
    }
    return el("div", { class: "turn opener" }, bots);
  }
  const user = turn.user;
  const flags = [];
  if (turn.fallback) flags.push(el("span", { class: "tag warn" }, "NLU fallback"));
  if (turn.feedback) flags.push(el("span", { class: `tag ${turn.feedback === "negative" ? "bad" : ""}` }, `feedback: ${turn.feedback}`));
  if (turn.correction) {
    const parts = [];
    if (turn.correction.intent) parts.push(`intent → ${turn.correction.intent}`);
    if (turn.correction.organisation) parts.push(`organisation → ${turn.correction.organisation}`);
    flags.push(el("span", { class: "tag fix", "data-testid": "correction" }, `corrected: ${parts.join(", ")} (${turn.correction.author})`));
  }
  const nlu = el("div", { class: "nlu", "data-testid": "nlu" },
    el("span", { class: "intent", "data-testid": "intent" }, user.intent || "?"),
    " ", el("span", { class: "conf" }, user.confidence === null ? "" : user.confidence.toFixed(2)),
    user.ranking.length > 1 ? el("span", { class: "ranking" },
      " (next: " + user.ranking.slice(1, 3).map((r) => `${r.name} ${r.confidence.toFixed(2)}`).join(", ") + ")") : null,
    user.channel ? el("span", { class: "channel" }, ` · ${user.channel}`) : null,
    turn.language ? el("span", { class: "lang" }, ` · ${turn.language}`) : null);
  const entities = user.entities.length
    ? el("div", { class: "detail" }, "entities: ", user.entities.map((e) => `${e.entity}=${e.value}`).join(", "))
    : null;
  const actions = turn.actions.length
    ? el("div", { class: "detail", "data-testid": "actions" }, "actions: ",
        turn.actions.map((a) => `${a.name}${a.policy ? ` (${a.policy}${a.confidence !== null ? " " + a.confidence.toFixed(2) : ""})` : ""}`).join(" → "))
    : null;
  const slotNames = Object.keys(turn.slots).filter((k) => turn.slots[k] !== null && k !== "session_started_metadata");
  const slots = slotNames.length
    ? el("div", { class: "detail", "data-testid": "slots" }, "slots: ",
        slotNames.map((k) => `${k}=${JSON.stringify(turn.slots[k])}${k in turn.slots_set ? "*" : ""}`).join(", "))
    : null;
  const bots = turn.bot.filter((m) => m.text || (m.buttons && m.buttons.length)).map((m) =>
    el("div", { class: "bubble bot" }, m.text || "",
      m.buttons && m.buttons.length ? el("div", { class: "buttons" }, m.buttons.map((b) => el("span", { class: "chip" }, b))) : null));
  const card = el("article", { class: "turn", "data-turn": turn.index, "data-testid": "turn" },
    el("div", { class: "bubble user" }, user.text),
    nlu, turn.tags && turn.tags.length ? el("div", { class: "flags", "data-testid": "turn-tags" }, tagChips(turn.tags)) : null,
    flags.length ? el("div", { class: "flags" }, flags) : null,
    entities, slots, actions, bots, renderAnswer(turn.answer));
  if (options && options.editable) card.append(correctionControls(turn, options));
  return card;
}

function renderAnswer(answer) {
  if (!answer) return null;
  if (answer.type === "no_answer") {
    return el("div", { class: "answer none", "data-testid": "answer" }, `no answer: ${answer.reason}`,
      answer.confidence !== undefined ? ` (best score ${answer.confidence})` : "");
  }
  const orgs = (answer.organisations || []).map((o, i) => {
    const url = safeUrl(o.url);
    const name = `${i === 0 ? "★ " : ""}${o.name} (${o.id})`;
    return el("li", {}, url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name) : name);
  });
  const rows = (answer.services || []).map((s) =>
    el("tr", {}, el("td", {}, s.title), el("td", {}, s.organisation),
      el("td", { class: "num" }, typeof s.score === "number" ? s.score.toFixed(3) : "")));
  const extra = [];
  if (answer.slot) extra.push(` · asks for ${answer.slot}`);
  if (Array.isArray(answer.options)) extra.push(` (${answer.options.join(", ")})`);
  return el("div", { class: "answer", "data-testid": "answer" },
    el("div", {}, `${answer.type}`, answer.confidence !== undefined ? ` · confidence ${answer.confidence}` : "",
      answer.language ? ` · ${answer.language}` : "", extra),
    orgs.length ? el("div", {}, "organisations: ", el("ul", { class: "orgs", "data-testid": "organisations" }, orgs)) : null,
    rows.length ? el("table", { class: "services", "data-testid": "services" },
      el("thead", {}, el("tr", {}, el("th", {}, "service"), el("th", {}, "organisation"), el("th", {}, "score"))),
      el("tbody", {}, rows)) : null);
}

function correctionControls(turn, options) {
  const box = el("div", { class: "correct" });
  const intent = el("select", { "aria-label": "right intent", "data-testid": "fix-intent" },
    el("option", { value: "" }, "intent: keep"),
    state.meta.intents.map((name) => el("option", { value: name }, name)));
  const org = el("select", { "aria-label": "right organisation", "data-testid": "fix-org" },
    el("option", { value: "" }, "organisation: keep"),
    state.meta.organisations.map((o) => el("option", { value: o.id }, `${o.name} (${o.id})`)));
  if (turn.correction) {
    intent.value = turn.correction.intent || "";
    org.value = turn.correction.organisation || "";
  }
  const status = el("span", { class: "status" });
  const save = el("button", { type: "button", "data-testid": "fix-save", onclick: async () => {
    try {
      await api("POST", `/api/conversations/${encodeURIComponent(options.senderId)}/corrections`,
        { turn: turn.index, intent: intent.value || null, organisation: org.value || null });
      status.textContent = "saved";
      options.reload();
    } catch (e) { status.textContent = e.message; }
  } }, "Save correction");
  const form = el("div", { class: "correct-form", hidden: true }, intent, " ", org, " ", save, " ", status);
  const toggle = el("button", { type: "button", class: "link", "data-testid": "mark-wrong",
    onclick: () => { form.hidden = !form.hidden; } }, turn.correction ? "Edit correction" : "Mark wrong");
  box.append(toggle, form);
  return box;
}

// ------------------------------------------------------------------ Try it

function viewTry(main) {
  const turns = el("div", { class: "turns", "data-testid": "try-turns" });
  const who = el("code", { "data-testid": "try-sender" }, state.trySender || "–");
  const input = el("input", { type: "text", maxlength: 2000, placeholder: "Type a message as a newcomer would…", "aria-label": "message", "data-testid": "try-input" });
  const status = el("span", { class: "status", "data-testid": "try-status" });
  const newUser = async () => {
    const data = await api("POST", "/api/try/new");
    state.trySender = data.sender_id;
    state.tryConversation = data.conversation;
    who.textContent = state.trySender;
    turns.replaceChildren();
  };
  const send = async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!state.trySender) await newUser();
    status.textContent = "…";
    try {
      const data = await api("POST", "/api/try/message", { sender_id: state.trySender, text });
      input.value = "";
      status.textContent = "";
      turns.replaceChildren(...data.turns.map((t) => renderTurn(t)));
      turns.lastElementChild && turns.lastElementChild.scrollIntoView({ block: "end" });
    } catch (e) { status.textContent = e.message; }
  };
  const openLink = el("a", { href: "#", "data-testid": "try-open", onclick: (e) => {
    e.preventDefault();
    if (state.tryConversation) location.hash = `conversation/${encodeURIComponent(state.tryConversation)}`;
  } }, "open as transcript");
  main.replaceChildren(
    el("h2", {}, "Try it"),
    el("p", { class: "hint" }, "You talk to the bot as a fresh test user (REST channel). Every bot turn shows the predicted intent and confidence, the slots (* = set in this turn), the actions and, for search answers, the services with scores and the organisations."),
    el("div", { class: "toolbar" }, "test user: ", who, " ",
      el("button", { type: "button", class: "link", "data-testid": "try-new", onclick: newUser }, "new test user"), " · ", openLink),
    turns,
    el("form", { class: "composer", onsubmit: send }, input, el("button", { type: "submit", "data-testid": "try-send" }, "Send"), status));
  input.focus();
}

// ------------------------------------------------------------------ Conversations

const listState = { query: {}, offset: 0 };

function viewConversations(main) {
  // Read at each render: a filter submit replaces listState.query with a new object.
  const q = () => listState.query;
  const field = (name, attrs) => el("input", Object.assign({ name, value: q()[name] || "" }, attrs));
  const select = (name, label, options) => el("select", { name, "aria-label": label },
    el("option", { value: "" }, `${label}: any`),
    options.map((o) => el("option", { value: o, selected: q()[name] === o }, o)));
  const table = el("div", { "data-testid": "conversation-list" }, "loading…");
  const form = el("form", { class: "filters", "data-testid": "filters" });
  let latest = 0;
  const load = async () => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(listState.query)) if (v) params.set(k, v);
    params.set("offset", listState.offset);
    const ticket = ++latest;
    try {
      const data = await api("GET", `/api/conversations?${params}`);
      if (ticket !== latest) return; // a newer request was made meanwhile: its answer wins
      renderFilters(data.facets);
      renderList(data);
    } catch (e) { showError(table, e); }
  };
  const renderFilters = (facets) => {
    form.replaceChildren(
      field("q", { type: "search", placeholder: "search text", "aria-label": "search", "data-testid": "search" }),
      el("label", {}, "from ", field("date_from", { type: "date" })),
      el("label", {}, "to ", field("date_to", { type: "date" })),
      select("channel", "channel", facets.channels),
      select("language", "language", facets.languages),
      select("intent", "intent", facets.intents),
      el("label", {}, el("input", { type: "checkbox", name: "fallback", value: "1", checked: q().fallback === "1" }), " fallback happened"),
      el("label", {}, el("input", { type: "checkbox", name: "negative", value: "1", checked: q().negative === "1" }), " negative feedback"),
      el("select", { name: "source", "aria-label": "source" },
        ["all", "users", "tests", "guests"].map((s) => el("option", { value: s, selected: (q().source || "all") === s }, `show: ${s}`))),
      el("button", { type: "submit" }, "Filter"));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    listState.query = {};
    for (const [k, v] of new FormData(form).entries()) if (v) listState.query[k] = String(v);
    listState.offset = 0;
    load();
  });
  const renderList = (data) => {
    if (!data.items.length) {
      table.replaceChildren(el("p", {}, "No conversations match."));
      return;
    }
    const rows = data.items.map((c) => el("tr", {},
      el("td", {}, el("a", { href: `#conversation/${encodeURIComponent(c.conversation)}`, "data-testid": "open-conversation" }, fmtTime(c.last))),
      el("td", { class: "num" }, c.messages),
      el("td", {}, c.channels.join(", ")),
      el("td", {}, c.languages.join(", ")),
      el("td", {}, c.fallback ? el("span", { class: "tag warn" }, "fallback") : null,
        c.negative_feedback ? el("span", { class: "tag bad" }, "negative") : null,
        c.test ? el("span", { class: "tag" }, "test") : null,
        c.guest ? el("span", { class: "tag" }, "guest") : null,
        tagChips(c.tags, c.message_tags)),
      el("td", { class: "preview" }, c.preview)));
    const pager = el("div", { class: "pager" },
      `${data.offset + 1}–${data.offset + data.items.length} of ${data.total} `,
      data.offset > 0 ? el("button", { type: "button", class: "link", onclick: () => { listState.offset = Math.max(0, data.offset - data.limit); load(); } }, "← newer") : null,
      data.offset + data.limit < data.total ? el("button", { type: "button", class: "link", onclick: () => { listState.offset = data.offset + data.limit; load(); } }, "older →") : null);
    table.replaceChildren(el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ["last activity", "messages", "channel", "language", "flags", "first message"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)), pager);
  };
  main.replaceChildren(el("h2", {}, "Conversations"), form, table);
  renderFilters({ channels: [], languages: [], intents: [] });
  load();
}

// Staff tags (console.tags): the conversation's, then its messages' (marked as such).
function tagChips(conversationTags, messageTags) {
  return [...(conversationTags || []).map((t) => el("span", { class: "tag fix", "data-testid": "tag" }, t)),
    ...(messageTags || []).map((t) => el("span", { class: "tag fix", "data-testid": "tag" }, `${t} (message)`))];
}

// ------------------------------------------------------------------ Transcript

function viewTranscript(main, senderId) {
  const body = el("div", { class: "turns", "data-testid": "transcript" }, "loading…");
  const result = el("div", { class: "export-result", "data-testid": "export-result" });
  const reload = async () => {
    try {
      const data = await api("GET", `/api/conversations/${encodeURIComponent(senderId)}`);
      const s = data.summary;
      header.replaceChildren(el("div", {}, el("h2", {}, "Conversation ", el("code", {}, senderId)),
        s ? el("p", { class: "hint" }, `${fmtTime(s.started)} – ${fmtTime(s.last)} · ${s.messages} messages · ${s.channels.join(", ")} · ${s.languages.join(", ")}`) : null,
        data.tags.length ? el("p", { "data-testid": "conversation-tags" }, "tags: ", tagChips(data.tags)) : null));
      body.replaceChildren(...data.turns.map((t) => renderTurn(t, { editable: true, senderId, reload })));
    } catch (e) { showError(body, e); }
  };
  const header = el("div", {});
  const exportButton = el("button", { type: "button", "data-testid": "export", onclick: async () => {
    result.replaceChildren("exporting…");
    try {
      const data = await api("POST", `/api/conversations/${encodeURIComponent(senderId)}/export`);
      result.replaceChildren(...[
        el("h3", {}, "Exported"),
        el("ul", {}, Object.entries(data.paths).map(([kind, path]) => el("li", {}, `${kind}: `, el("code", { "data-testid": `path-${kind}` }, path)))),
        data.notes.length ? el("ul", { class: "notes" }, data.notes.map((n) => el("li", {}, n))) : null,
        el("pre", { "data-testid": "story-yaml" }, data.story),
        data.nlu ? el("pre", { "data-testid": "nlu-yaml" }, data.nlu) : null,
        data.questions ? el("pre", { "data-testid": "questions-yaml" }, data.questions) : null,
      ].filter(Boolean));
    } catch (e) { showError(result, e); }
  } }, "Export as test story + NLU examples");
  main.replaceChildren(header,
    el("div", { class: "toolbar" }, el("a", { href: "#conversations" }, "← all conversations"), " ", exportButton),
    result, body);
  reload();
}

// ------------------------------------------------------------------ Summary

const summaryState = { query: { source: "users" } };

function viewSummary(main) {
  const charts = el("div", { class: "charts", "data-testid": "charts" }, "loading…");
  const q = summaryState.query;
  const form = el("form", { class: "filters", "data-testid": "summary-filters" },
    el("label", {}, "from ", el("input", { type: "date", name: "date_from", value: q.date_from || "" })),
    el("label", {}, "to ", el("input", { type: "date", name: "date_to", value: q.date_to || "" })),
    el("select", { name: "source", "aria-label": "source" },
      ["users", "all", "tests", "guests"].map((s) => el("option", { value: s, selected: q.source === s }, `conversations: ${s}`))),
    el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    summaryState.query = {};
    for (const [k, v] of new FormData(form).entries()) if (v) summaryState.query[k] = String(v);
    load();
  });
  const card = (title, chart, testid) => el("section", { class: "chart-card", "data-testid": testid }, el("h3", {}, title), chart);
  let latest = 0;
  const load = async () => {
    const ticket = ++latest;
    try {
      const params = new URLSearchParams(summaryState.query);
      const data = await api("GET", `/api/stats?${params}`);
      if (ticket !== latest) return; // a newer request was made meanwhile: its answer wins
      const t = data.totals;
      charts.replaceChildren(
        el("p", { class: "totals", "data-testid": "totals" },
          `${t.conversations} conversations · ${t.messages} messages · fallback rate ${pct(t.fallback_rate)} · ${t.negative_feedback} with negative feedback`),
        card("Conversations per day", Charts.columns(data.per_day.map((d) => ({ label: d.day.slice(5), value: d.conversations, title: `${d.day}: ${d.conversations}` }))), "chart-per-day"),
        card("Fallback rate per day", Charts.columns(data.per_day.map((d) => ({ label: d.day.slice(5), value: d.fallback_rate === null ? 0 : d.fallback_rate * 100, title: `${d.day}: ${pct(d.fallback_rate)} of ${d.messages} messages` })), { unit: "%", max: 100 }), "chart-fallback"),
        card("Top unanswered questions", Charts.bars(data.unanswered.map((u) => ({ label: u.text, value: u.count, title: `${u.reason}: ${u.text}` }))), "chart-unanswered"),
        card("Answers per organisation", Charts.bars(data.organisations.map((o) => ({ label: o.name, value: o.count, title: `${o.id}: ${o.count}` }))), "chart-organisations"),
        card("Language mix (conversations)", Charts.bars(data.languages.map((l) => ({ label: l.language, value: l.count, title: `${l.language}: ${l.count}` }))), "chart-languages"));
    } catch (e) { showError(charts, e); }
  };
  main.replaceChildren(el("h2", {}, "Summary"), form, charts);
  load();
}

// ------------------------------------------------------------------ start

function route() {
  const main = document.getElementById("main");
  const hash = location.hash.replace(/^#/, "");
  const view = hash.startsWith("conversation/") ? "conversations" : hash || "try";
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.view === view);
  }
  if (hash.startsWith("conversation/")) viewTranscript(main, decodeURIComponent(hash.slice("conversation/".length)));
  else if (hash === "conversations") viewConversations(main);
  else if (hash === "summary") viewSummary(main);
  else if (hash === "inbox") viewInbox(main); // inbox.js
  else if (hash === "accounts") viewAccounts(main); // inbox.js
  else if (hash === "suggestions") viewSuggestions(main); // suggest.js
  else if (hash === "guests") viewGuests(main); // suggest.js
  else if (hash === "models") viewModels(main); // models.js
  else viewTry(main);
}

async function start() {
  try {
    state.meta = await api("GET", "/api/meta");
  } catch (e) {
    showError(document.getElementById("main"), e);
    return;
  }
  document.getElementById("user").textContent = state.meta.user;
  document.getElementById("role").textContent = ` (${state.meta.role})`;
  for (const view of ["accounts", "models", "guests"]) {
    document.querySelector(`nav a[data-view="${view}"]`).hidden = state.meta.role !== "admin";
  }
  document.getElementById("logout").addEventListener("click", async () => {
    await api("POST", "/logout").catch(() => null);
    window.location.href = "/login";
  });
  window.addEventListener("hashchange", route);
  route();
}

document.addEventListener("DOMContentLoaded", start);

// Inbox and Accounts views of the staff console (loaded after console.js, whose el(), api(),
// fmtTime(), showError() and state it uses). Server text only ever goes into textContent.
"use strict";

const inboxState = { query: { source: "users" }, offset: 0, selected: new Map() };
const ROLE_RANK = { viewer: 1, annotator: 2, admin: 3 };

function canDo(role) {
  return state.meta && ROLE_RANK[state.meta.role] >= ROLE_RANK[role];
}

function refKey(item) {
  return `${item.turn}\u0000${item.conversation}`;
}

function viewInbox(main) {
  const q = () => inboxState.query;
  const field = (name, attrs) => el("input", Object.assign({ name, value: q()[name] || "" }, attrs));
  const select = (name, label, options) => el("select", { name, "aria-label": label, "data-testid": `inbox-${name}` },
    el("option", { value: "" }, `${label}: any`),
    options.map((o) => el("option", { value: o, selected: q()[name] === o }, o)));
  const check = (name, label) => el("label", {},
    el("input", { type: "checkbox", name, value: "1", checked: q()[name] === "1", "data-testid": `inbox-${name}` }), ` ${label}`);
  const form = el("form", { class: "filters", "data-testid": "inbox-filters" });
  const table = el("div", { "data-testid": "inbox-list" }, "loading…");
  const status = el("p", { class: "status", role: "status", "data-testid": "inbox-status" });
  const result = el("div", { class: "export-result", "data-testid": "inbox-export-result" });
  let latest = 0;
  let lastData = null;

  const load = async () => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(inboxState.query)) if (v) params.set(k, v);
    params.set("offset", inboxState.offset);
    const ticket = ++latest;
    try {
      const data = await api("GET", `/api/inbox?${params}`);
      if (ticket !== latest) return;
      lastData = data;
      renderFilters(data.facets, data.low_confidence);
      renderList(data);
    } catch (e) { showError(table, e); }
  };
  const renderFilters = (facets, low) => {
    form.replaceChildren(
      field("q", { type: "search", placeholder: "search messages", "aria-label": "search", "data-testid": "inbox-search" }),
      el("label", {}, "from ", field("date_from", { type: "date" })),
      el("label", {}, "to ", field("date_to", { type: "date" })),
      select("language", "language", facets.languages),
      select("channel", "channel", facets.channels),
      select("intent", "intent", facets.intents),
      select("organisation", "organisation", facets.organisations),
      select("tag", "tag", facets.tags),
      check("low_confidence", `confidence < ${low}`),
      check("fallback", "fallback"),
      check("clarifying", "clarifying question"),
      check("negative", "negative feedback"),
      el("select", { name: "annotated", "aria-label": "annotated" },
        [["", "annotated: any"], ["no", "not annotated"], ["yes", "annotated"]].map(([v, t]) =>
          el("option", { value: v, selected: (q().annotated || "") === v }, t))),
      el("select", { name: "source", "aria-label": "source" },
        ["users", "all", "tests", "guests"].map((s) => el("option", { value: s, selected: (q().source || "users") === s }, `show: ${s}`))),
      el("button", { type: "submit", "data-testid": "inbox-filter" }, "Filter"));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    inboxState.query = {};
    for (const [k, v] of new FormData(form).entries()) if (v) inboxState.query[k] = String(v);
    inboxState.offset = 0;
    inboxState.selected.clear();
    load();
  });

  const selectedRefs = () => [...inboxState.selected.values()].map((i) => ({ conversation: i.conversation, turn: i.turn }));
  const bulk = async (path, body, done) => {
    const messages = selectedRefs();
    if (!messages.length && !(body && body.conversations)) { status.textContent = "select messages first"; return; }
    try {
      const data = await api("POST", path, Object.assign({ messages }, body));
      status.textContent = done(data);
      load();
    } catch (e) { status.textContent = e.message; }
  };

  const toolbar = () => {
    if (!canDo("annotator")) return el("p", { class: "hint" }, "Your role (viewer) can read the inbox; annotating and tagging need the annotator role.");
    const intent = el("select", { "aria-label": "right intent", "data-testid": "annotate-intent" },
      el("option", { value: "" }, "intent: –"), state.meta.intents.map((n) => el("option", { value: n }, n)));
    const org = el("select", { "aria-label": "right organisation", "data-testid": "annotate-org" },
      el("option", { value: "" }, "organisation: –"), state.meta.organisations.map((o) => el("option", { value: o.id }, `${o.name} (${o.id})`)));
    const service = el("select", { "aria-label": "right service", "data-testid": "annotate-service" },
      el("option", { value: "" }, "service: –"), (state.meta.services || []).map((s) => el("option", { value: s.id }, `${s.title} (${s.id})`)));
    const tag = el("input", { type: "text", maxlength: 40, placeholder: "tag, e.g. needs corpus update", "aria-label": "tag", "data-testid": "tag-input" });
    const count = (n, what) => `${n} ${what}`;
    return el("div", { class: "toolbar bulk", "data-testid": "inbox-bulk" },
      intent, " ", org, " ", service, " ",
      el("button", { type: "button", "data-testid": "annotate", onclick: () => bulk("/api/inbox/annotations",
        { intent: intent.value || null, organisation: org.value || null, service: service.value || null },
        (d) => count(d.annotated, "annotated")) }, "Annotate selected"), " ",
      el("button", { type: "button", "data-testid": "annotate-oos", onclick: () => bulk("/api/inbox/annotations",
        { out_of_scope: true }, (d) => count(d.annotated, "marked out of scope")) }, "Out of scope"), " ",
      el("button", { type: "button", class: "link", "data-testid": "annotate-undo", onclick: () => bulk("/api/inbox/annotations/undo",
        {}, (d) => count(d.undone, "annotation(s) undone")) }, "Undo last annotation"),
      el("br"), tag, " ",
      el("button", { type: "button", "data-testid": "tag-add", onclick: () => bulk("/api/tags", { tag: tag.value },
        (d) => count(d.added, `tagged “${d.tag}”`)) }, "Tag messages"), " ",
      el("button", { type: "button", "data-testid": "tag-conversations", onclick: () => bulk("/api/tags",
        { tag: tag.value, messages: [], conversations: [...new Set(selectedRefs().map((r) => r.conversation))] },
        (d) => count(d.added, `conversation(s) tagged “${d.tag}”`)) }, "Tag their conversations"), " ",
      el("button", { type: "button", class: "link", "data-testid": "tag-remove", onclick: () => bulk("/api/tags/remove",
        { tag: tag.value, conversations: [...new Set(selectedRefs().map((r) => r.conversation))] },
        (d) => count(d.removed, "tag(s) removed")) }, "Remove tag"), " ",
      el("button", { type: "button", "data-testid": "inbox-export", onclick: async () => {
        result.replaceChildren("exporting…");
        try {
          const data = await api("POST", "/api/inbox/export");
          result.replaceChildren(el("div", {},
            el("h3", {}, `Exported ${data.examples} NLU example(s), ${data.questions} labelled question(s)`),
            el("ul", {}, data.written.map((p) => el("li", {}, el("code", {}, p)))),
            data.notes.length ? el("ul", { class: "notes" }, data.notes.map((n) => el("li", {}, n))) : null,
            Object.entries(data.files).filter(([, t]) => t).map(([p, t]) => el("details", {}, el("summary", {}, p), el("pre", {}, t)))));
        } catch (e) { showError(result, e); }
      } }, "Export annotations"));
  };

  const renderList = (data) => {
    const notice = data.updating ? el("p", { class: "hint", "data-testid": "inbox-updating" }, "The inbox is still reading the tracker store; reload for the rest.") : null;
    if (!data.items.length) {
      table.replaceChildren(notice || "", el("p", {}, "No messages match."));
      return;
    }
    const all = el("input", { type: "checkbox", "aria-label": "select the page", "data-testid": "select-page",
      checked: data.items.every((i) => inboxState.selected.has(refKey(i))), onchange: (e) => {
        for (const item of data.items) {
          if (e.target.checked) inboxState.selected.set(refKey(item), item); else inboxState.selected.delete(refKey(item));
        }
        renderList(data);
      } });
    const rows = data.items.map((item) => {
      const flags = [
        item.fallback ? el("span", { class: "tag warn" }, "fallback") : null,
        item.clarifying ? el("span", { class: "tag" }, "clarifying") : null,
        item.negative ? el("span", { class: "tag bad" }, "negative feedback") : null,
        item.test ? el("span", { class: "tag" }, "test") : null,
      ];
      const tags = [...item.tags, ...item.conversation_tags.map((t) => `${t} (conversation)`)].map((t) => el("span", { class: "tag fix" }, t));
      const a = item.annotation;
      const label = a ? (a.out_of_scope ? "out of scope" : [a.intent, a.organisation, a.service].filter(Boolean).join(" · ")) : "";
      return el("tr", { "data-testid": "inbox-row" },
        el("td", {}, el("input", { type: "checkbox", "aria-label": "select", "data-testid": "select-row",
          checked: inboxState.selected.has(refKey(item)), onchange: (e) => {
            if (e.target.checked) inboxState.selected.set(refKey(item), item); else inboxState.selected.delete(refKey(item));
            status.textContent = `${inboxState.selected.size} selected`;
          } })),
        el("td", {}, el("a", { href: `#conversation/${encodeURIComponent(item.conversation)}` }, fmtTime(item.time))),
        el("td", { class: "preview" }, item.text, canDo("annotator") ? el("div", {}, el("button", { type: "button", class: "link",
          "data-testid": "suggest-question", onclick: () => suggestFromMessage(item) }, "suggest as a question…")) : null),
        el("td", {}, item.intent || "?", " ", el("span", { class: "conf" }, item.confidence === null ? "" : item.confidence.toFixed(2))),
        el("td", {}, item.organisation || (item.answer ? item.answer : "")),
        el("td", {}, item.language || ""), el("td", {}, item.channel || ""),
        el("td", {}, flags, tags),
        el("td", { "data-testid": "annotation" }, label, a ? el("span", { class: "hint" }, ` (${a.author})`) : ""));
    });
    const pager = el("div", { class: "pager" },
      `${data.offset + 1}–${data.offset + data.items.length} of ${data.total} `,
      data.offset > 0 ? el("button", { type: "button", class: "link", onclick: () => { inboxState.offset = Math.max(0, data.offset - data.limit); load(); } }, "← newer") : null,
      data.offset + data.limit < data.total ? el("button", { type: "button", class: "link", "data-testid": "inbox-older", onclick: () => { inboxState.offset = data.offset + data.limit; load(); } }, "older →") : null);
    table.replaceChildren(notice || "", el("table", { class: "list" },
      el("thead", {}, el("tr", {}, el("th", {}, all), ["time", "message", "intent", "answered", "language", "channel", "flags and tags", "annotation"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)), pager);
  };

  main.replaceChildren(el("h2", {}, "Inbox"),
    el("p", { class: "hint" }, "Every user message, newest first. Select messages (or the whole page), then give the right intent and/or organisation or service, or mark them out of scope; Export writes them as NLU examples and labelled questions for review. Negative feedback marks the question a “wrong answer” message was about."),
    form, toolbar(), status, result, table);
  renderFilters({ languages: [], channels: [], intents: [], organisations: [], tags: [] }, 0.7);
  load();
}

async function viewAccounts(main) {
  const list = el("div", { "data-testid": "accounts" }, "loading…");
  main.replaceChildren(el("h2", {}, "Accounts"),
    el("p", { class: "hint" }, "Viewer: reads. Annotator: also annotates, tags, corrects and exports. Admin: also gives roles. New accounts: python -m console add-user NAME --role ROLE."), list);
  try {
    const data = await api("GET", "/api/accounts");
    list.replaceChildren(el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ["account", "role", "set by"].map((h) => el("th", {}, h)))),
      el("tbody", {}, data.accounts.map((a) => {
        const status = el("span", { class: "status" });
        const role = el("select", { "aria-label": `role of ${a.name}`, "data-testid": "account-role", onchange: async () => {
          try { await api("POST", `/api/accounts/${encodeURIComponent(a.name)}/role`, { role: role.value }); status.textContent = "saved"; }
          catch (e) { status.textContent = e.message; role.value = a.role; }
        } }, data.roles.map((r) => el("option", { value: r, selected: r === a.role }, r)));
        return el("tr", {}, el("td", {}, a.name), el("td", {}, role, " ", status), el("td", {}, a.set_by || ""));
      }))));
  } catch (e) { showError(list, e); }
}

// Knowledge suggestions and guest tester links (loaded after console.js and inbox.js, whose
// el(), api(), fmtTime(), showError(), state and canDo() it uses). Server text only ever goes
// into textContent.
"use strict";

const suggestState = { prefill: null, status: "pending" };
const KIND_LABELS = { question: "typical question", alias: "alias (a short name people type)", text: "text fix" };

// Called from an inbox row: open the form with the message as a question for a service.
function suggestFromMessage(item) {
  suggestState.prefill = {
    kind: "question",
    text: item.text,
    language: (item.language || "en").slice(0, 2),
    service: (item.annotation && item.annotation.service) || "",
    source: { conversation: item.conversation, turn: item.turn },
  };
  location.hash = "suggestions";
}

function fmtEpoch(seconds) {
  // In the browser's time zone, as "2026-01-31 14:05".
  return seconds ? new Date(seconds * 1000).toLocaleString("sv-SE").slice(0, 16) : "";
}

function suggestionForm(onSaved) {
  const pre = suggestState.prefill || {};
  suggestState.prefill = null;
  const service = el("select", { "aria-label": "service", "data-testid": "suggest-service", required: true },
    el("option", { value: "" }, "service: choose"),
    (state.meta.services || []).map((s) => el("option", { value: s.id, selected: s.id === pre.service }, `${s.title} (${s.id})`)));
  const kind = el("select", { "aria-label": "kind", "data-testid": "suggest-kind" },
    Object.entries(KIND_LABELS).map(([k, label]) => el("option", { value: k, selected: k === (pre.kind || "question") }, label)));
  const field = el("select", { "aria-label": "field", "data-testid": "suggest-field" },
    ["title", "description", "how_to", "verify"].map((f) => el("option", { value: f }, f)));
  const language = el("input", { type: "text", maxlength: 2, size: 3, value: pre.language || "en", "aria-label": "language", "data-testid": "suggest-language" });
  const text = el("textarea", { rows: 3, cols: 70, maxlength: 2000, "aria-label": "new text", "data-testid": "suggest-text" });
  text.value = pre.text || "";
  const reason = el("input", { type: "text", maxlength: 1000, size: 70, placeholder: "why, and for a text fix the official page that says so", "aria-label": "reason", "data-testid": "suggest-reason" });
  const current = el("div", { class: "hint", "data-testid": "suggest-current" });
  const status = el("div", { class: "status", role: "status", "data-testid": "suggest-status" });
  const source = pre.source ? el("p", { class: "hint" }, `From inbox message ${pre.source.turn} of conversation ${pre.source.conversation}. Edit the text so it holds no personal details.`) : null;

  const showCurrent = async () => {
    field.hidden = kind.value !== "text";
    current.replaceChildren();
    if (!service.value) return;
    try {
      const data = await api("GET", `/api/corpus/services/${encodeURIComponent(service.value)}`);
      const lang = language.value.trim();
      if (kind.value === "text") {
        const texts = data.texts[field.value] || {};
        current.append(`current ${field.value} (${lang}): `, texts[lang] || "– (none in this file)");
        if (lang === "en" && field.value !== "verify") {
          current.append(el("br"), "Accepted, this makes the service's translations in other languages outdated until they are updated (make translations lists them).");
        }
        if (!text.value && texts[lang]) text.value = texts[lang];
      } else {
        current.append(`current questions (${lang}): `, (data.questions[lang] || []).join(" · ") || "–");
      }
      current.append(el("br"), `file: ${data.file}`);
    } catch (e) { showError(current, e); }
  };
  for (const control of [service, kind, field, language]) control.addEventListener("change", showCurrent);

  const submit = async (event) => {
    event.preventDefault();
    const body = { service: service.value, kind: kind.value, language: language.value.trim(), text: text.value, reason: reason.value };
    if (kind.value === "text") body.field = field.value;
    if (pre.source) body.source = pre.source;
    status.replaceChildren("checking…");
    try {
      const saved = await api("POST", "/api/suggestions", body);
      status.replaceChildren(`Suggestion ${saved.id} saved as ${saved.patch_file}; an admin reviews it.`);
      text.value = "";  // the next suggestion starts afresh, not from the same message
      delete pre.source;
      if (source) source.remove();
      onSaved();
    } catch (e) {
      status.replaceChildren(el("p", { class: "error", role: "alert" }, e.message));
    }
  };
  const form = el("form", { class: "filters suggest-form", "data-testid": "suggest-form", onsubmit: submit },
    el("strong", {}, "Suggest a change to the corpus"), source,
    el("label", {}, service), el("label", {}, kind), el("label", {}, field), el("label", {}, "language ", language),
    el("label", { class: "wide" }, text), el("label", { class: "wide" }, reason), current,
    el("button", { type: "submit", "data-testid": "suggest-save" }, "Check and suggest"), status);
  showCurrent();
  return form;
}

function viewSuggestions(main) {
  const list = el("div", { "data-testid": "suggestion-list" }, "loading…");
  const filter = el("select", { "aria-label": "status", "data-testid": "suggestion-status", onchange: () => { suggestState.status = filter.value; load(); } },
    [["pending", "pending"], ["accepted", "accepted"], ["rejected", "rejected"], ["", "all"]].map(([v, t]) =>
      el("option", { value: v, selected: suggestState.status === v }, `show: ${t}`)));
  const decide = (item, action) => async () => {
    const note = action === "reject" ? window.prompt("Why is it rejected? (the author sees this)") : "";
    if (note === null) return;
    try {
      await api("POST", `/api/suggestions/${item.id}/${action}`, action === "reject" ? { note } : {});
      load();
    } catch (e) { showError(list, e); }
  };
  const load = async () => {
    try {
      const data = await api("GET", `/api/suggestions?status=${encodeURIComponent(suggestState.status)}`);
      const c = data.counts;
      const rows = data.items.map((s) => el("tr", { "data-testid": "suggestion-row" },
        el("td", {}, `#${s.id}`), el("td", {}, s.service_id),
        el("td", {}, s.kind === "text" ? `text fix: ${s.field}` : s.kind, ` (${s.language})`),
        el("td", { class: "preview" }, s.old_text ? el("del", {}, s.old_text) : null, s.old_text ? el("br") : null, el("ins", {}, s.text),
          s.reason ? el("div", { class: "hint" }, s.reason) : null,
          el("details", {}, el("summary", {}, s.patch_file), el("pre", {}, s.patch))),
        el("td", {}, s.author, el("br"), el("span", { class: "hint" }, fmtEpoch(s.created))),
        el("td", {}, s.status, s.reviewer ? el("div", { class: "hint" }, `${s.reviewer} ${fmtEpoch(s.decided)}`) : null,
          s.note ? el("div", { class: "hint" }, s.note) : null,
          s.status === "pending" && canDo("admin") ? el("div", {},
            el("button", { type: "button", "data-testid": "suggestion-accept", onclick: decide(s, "accept") }, "Accept"), " ",
            el("button", { type: "button", class: "link", "data-testid": "suggestion-reject", onclick: decide(s, "reject") }, "Reject")) : null)));
      list.replaceChildren(el("p", { class: "hint" }, `${c.pending} pending · ${c.accepted} accepted · ${c.rejected} rejected`),
        rows.length ? el("table", { class: "list" },
          el("thead", {}, el("tr", {}, ["", "service", "change", "text", "by", "status"].map((h) => el("th", {}, h)))),
          el("tbody", {}, rows)) : el("p", {}, "No suggestions here."));
    } catch (e) { showError(list, e); }
  };
  main.replaceChildren(el("h2", {}, "Suggestions"),
    el("p", { class: "hint" }, "Staff propose a typical question, an alias or a text fix for a service. The console checks it with the corpus validator and writes a patch; an admin accepts it (the corpus file changes: review it with git diff knowledge/ and commit, then rebuild the index) or rejects it."),
    canDo("annotator") ? suggestionForm(load) : el("p", { class: "hint" }, "Suggesting needs the annotator role."),
    el("div", { class: "toolbar" }, filter), list);
  load();
}

function viewGuests(main) {
  const list = el("div", { "data-testid": "guest-links" }, "loading…");
  const made = el("div", { "data-testid": "guest-link-made" });
  const label = el("input", { type: "text", maxlength: 34, placeholder: "label, e.g. Espoo library pilot", required: true, "aria-label": "label", "data-testid": "guest-label" });
  const hours = el("input", { type: "number", min: 1, value: 72, "aria-label": "hours open", "data-testid": "guest-hours" });
  const load = async () => {
    try {
      const data = await api("GET", "/api/guest-links");
      hours.max = data.max_days * 24;
      list.replaceChildren(data.links.length ? el("table", { class: "list" },
        el("thead", {}, el("tr", {}, ["label", "made by", "open until", "state", ""].map((h) => el("th", {}, h)))),
        el("tbody", {}, data.links.map((l) => el("tr", { "data-testid": "guest-link-row" },
          el("td", {}, el("a", { href: "#conversations", onclick: () => { listState.query = { source: "guests", q: "" }; } }, l.label)),
          el("td", {}, l.author), el("td", {}, fmtEpoch(l.expires)), el("td", {}, l.state),
          el("td", {}, l.state === "open" ? el("button", { type: "button", class: "link", "data-testid": "guest-revoke", onclick: async () => {
            try { await api("POST", `/api/guest-links/${l.id}/revoke`, {}); load(); } catch (e) { showError(list, e); }
          } }, "Revoke") : null))))) : el("p", {}, "No guest links yet."));
    } catch (e) { showError(list, e); }
  };
  const create = async (event) => {
    event.preventDefault();
    try {
      const link = await api("POST", "/api/guest-links", { label: label.value, hours: Number(hours.value) });
      made.replaceChildren(el("p", {}, "Send this link to the testers (it is shown only now): "),
        el("input", { type: "text", readonly: true, size: 80, value: link.url, "data-testid": "guest-url" }));
      load();
    } catch (e) { showError(made, e); }
  };
  main.replaceChildren(el("h2", {}, "Guest tester links"),
    el("p", { class: "hint" }, "A link lets people without an account try the bot until it expires or you revoke it. They can only chat; their conversations are tagged “guest” and “guest:<label>” and listed under show: guests."),
    el("form", { class: "filters", onsubmit: create }, label, el("label", {}, "open for ", hours, " hours"),
      el("button", { type: "submit", "data-testid": "guest-create" }, "Make link")),
    made, list);
  load();
}

// Models view (admins): train a candidate, compare it with the running model, publish, roll back.
// Uses el(), api(), pct(), showError() from console.js; server text only goes into textContent.
"use strict";

let modelsTimer = null;

function fmtEpoch(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "";
}

function evaluationTable(candidate, running) {
  const byLang = (entry) => {
    const rows = {};
    for (const row of (entry && entry.evaluation && entry.evaluation.languages) || []) rows[row.language] = row;
    return rows;
  };
  const c = byLang(candidate);
  const r = byLang(running);
  const languages = [...new Set([...Object.keys(c), ...Object.keys(r)])].sort((a, b) =>
    a === "ALL" ? 1 : b === "ALL" ? -1 : a.localeCompare(b));
  const cell = (row, key) => el("td", { class: row && row.below.length && key !== "n" ? "below" : null },
    row ? (key === "n" ? `${row.dev_n} / ${row.holdout_n}` : pct(row[key])) : "–");
  const nluRow = (label, key) => el("tr", {}, el("th", {}, label),
    ...[candidate, running].map((entry) => {
      const nlu = entry && entry.evaluation && entry.evaluation.nlu;
      return el("td", { colspan: 4 }, nlu ? `${pct(nlu[key])} (n=${nlu.n})` : "–");
    }));
  const head = ["n dev/held-out", "dev acc@1", "held-out acc@1", "fallback"];
  return el("table", { class: "list", "data-testid": "model-comparison" },
    el("thead", {},
      el("tr", {}, el("th", {}, ""), el("th", { colspan: 4 }, "candidate"), el("th", { colspan: 4 }, "running")),
      el("tr", {}, el("th", {}, "language"), ...head.map((h) => el("th", {}, h)), ...head.map((h) => el("th", {}, h)))),
    el("tbody", {},
      languages.map((lang) => el("tr", { "data-testid": "comparison-row" }, el("th", {}, lang),
        ...["n", "dev_acc1", "holdout_acc1", "fallback"].map((k) => cell(c[lang], k)),
        ...["n", "dev_acc1", "holdout_acc1", "fallback"].map((k) => cell(r[lang], k)))),
      nluRow("NLU intent accuracy", "accuracy"),
      nluRow("NLU fallback", "fallback")));
}

async function viewModels(main) {
  clearTimeout(modelsTimer);
  const status = el("div", { "data-testid": "training-status" });
  const compare = el("div", { "data-testid": "models-compare" });
  const history = el("div", { "data-testid": "models-history" });
  const message = el("p", { class: "status", "data-testid": "models-message", role: "status" });
  const trainButton = el("button", { type: "button", "data-testid": "train", onclick: async () => {
    try { await api("POST", "/api/models/train"); message.textContent = "training started"; load(); }
    catch (e) { message.textContent = e.message; }
  } }, "Train candidate");
  main.replaceChildren(el("h2", {}, "Models"),
    el("p", { class: "hint" }, "Train a candidate from bot/ and the inbox's annotations, compare it with the running model, publish it when nothing is below the floors. The last published models stay for rollback."),
    el("p", {}, trainButton), message, status, compare, history);

  async function publish(id, label) {
    message.textContent = `${label}…`;
    try {
      await api("POST", `/api/models/${encodeURIComponent(id)}/publish`);
      message.textContent = `${label}: done`;
    } catch (e) { message.textContent = e.message; }
    load();
  }

  async function load() {
    if (location.hash !== "#models") return;
    let data;
    try { data = await api("GET", "/api/models"); } catch (e) { showError(status, e); return; }
    const job = data.job;
    trainButton.disabled = job.state === "running";
    status.replaceChildren(job.state === "idle" ? el("p", {}, "No training since the console started.") :
      el("div", {},
        el("p", { "data-testid": "training-state" }, `Training ${job.state}`, job.stage ? ` — stage: ${job.stage}` : "",
          ` (${job.percent} %)`, job.error ? ` — ${job.error}` : ""),
        el("progress", { max: 100, value: job.percent, "data-testid": "training-progress" }),
        el("ol", { class: "stages" }, job.stages.map((s) => el("li", {
          class: s === job.stage && job.state === "running" ? "active" : null }, s))),
        el("pre", { class: "log", "data-testid": "training-log" }, job.lines.slice(-15).join("\n"))));
    const floors = data.floors;
    const candidate = data.candidate;
    const below = candidate && candidate.evaluation ? candidate.evaluation.below : null;
    compare.replaceChildren(el("h3", {}, "Candidate and running model"),
      floors ? el("p", { class: "hint" }, `Floors: dev acc@1 ≥ ${pct(floors.dev_acc1_per_language)} per language with ≥ ${floors.languages_from_questions} questions, held-out acc@1 ≥ ${pct(floors.holdout_acc1_overall)} overall, fallback ≤ ${pct(floors.fallback_max)}, NLU accuracy ≥ ${pct(floors.nlu_accuracy)}.`) : "",
      data.running_error ? el("p", { class: "error" }, data.running_error) : "",
      el("p", {}, candidate ? `Candidate ${candidate.id}, trained by ${candidate.trained_by} ${fmtEpoch(candidate.trained_at)}` : "No candidate.",
        " · ", data.running ? `Running ${data.running.id} (${data.running.model})` : "Running model unknown."),
      (candidate && candidate.evaluation) || (data.running && data.running.evaluation) ? evaluationTable(candidate, data.running) : "",
      below && below.length ? el("p", { class: "error", "data-testid": "below-floors" }, `Below the floors: ${below.join("; ")}`) : "",
      candidate && below ? el("button", { type: "button", "data-testid": "publish", disabled: below.length > 0 || job.state === "running",
        onclick: () => publish(candidate.id, "publishing") }, "Publish candidate") : "");
    history.replaceChildren(el("h3", {}, `Published (the last ${data.keep})`),
      el("table", { class: "list" },
        el("thead", {}, el("tr", {}, ["model", "published", "by", "held-out acc@1", "NLU", ""].map((h) => el("th", {}, h)))),
        el("tbody", {}, data.history.map((entry, i) => {
          const all = ((entry.evaluation && entry.evaluation.languages) || []).find((r) => r.language === "ALL");
          return el("tr", { "data-testid": "history-row" }, el("td", {}, entry.id), el("td", {}, fmtEpoch(entry.published_at)),
            el("td", {}, entry.published_by || ""), el("td", {}, all ? pct(all.holdout_acc1) : "–"),
            el("td", {}, entry.evaluation ? pct(entry.evaluation.nlu.accuracy) : "–"),
            el("td", {}, i === 0 ? "running" : el("button", { type: "button", "data-testid": "rollback",
              onclick: () => publish(entry.id, `rolling back to ${entry.id}`) }, "Roll back to this")));
        }))));
    if (job.state === "running") modelsTimer = setTimeout(load, 2000);
  }
  load();
}

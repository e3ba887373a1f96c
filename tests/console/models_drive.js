// Drives the staff loop in Debian's headless Chromium (playwright-core), as an admin would:
// inbox -> annotate a message -> Models: train a candidate -> compare it with the running
// model -> publish. Saves the screenshots of docs/console.md's staff guide and prints one JSON
// line of observations; the pytest side asserts on them (tests/console/test_console_e2e.py).
//
//   node tests/console/models_drive.js '<json config>'
"use strict";

const { config, shot, drive } = require("./console_page");

async function main() {
  await drive(async (page, out) => {
    await page.goto(config.url + "/#inbox");
    await page.fill("input[name=username]", config.user);
    await page.fill("input[name=password]", config.password);
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("user").textContent.length > 0);
    await page.goto(config.url + "/#inbox");
    await page.waitForSelector("[data-testid=inbox-row]");

    // Inbox: find the newcomer's message, select it, annotate the right intent.
    await page.fill("[data-testid=inbox-search]", config.search);
    await page.click("[data-testid=inbox-filter]");
    await page.waitForFunction((text) => {
      const rows = [...document.querySelectorAll("[data-testid=inbox-row]")];
      return rows.length === 1 && rows[0].innerText.includes(text);
    }, config.message);
    await page.locator("[data-testid=inbox-row] [data-testid=select-row]").first().check();
    await page.selectOption("[data-testid=annotate-org]", config.organisation);
    await shot(page, "console-inbox.png");
    await page.click("[data-testid=annotate]");
    await page.waitForFunction(() =>
      /1 annotated/.test(document.querySelector("[data-testid=inbox-status]").textContent));
    await page.waitForFunction(() => {  // the list is drawn again with the annotation
      const cell = document.querySelector("[data-testid=inbox-row] [data-testid=annotation]");
      return cell && cell.textContent.trim().length > 0;
    });
    out.annotation = (await page.locator("[data-testid=inbox-row] [data-testid=annotation]").first().innerText()).trim();
    await shot(page, "console-annotate.png");

    // Models: train a candidate; the stages and the streamed output show while it runs.
    await page.click('nav a[data-view="models"]');
    await page.waitForSelector("[data-testid=train]");
    await page.click("[data-testid=train]");
    await page.waitForFunction(() => {
      const node = document.querySelector("[data-testid=training-state]");
      return node && /stage: train model/.test(node.textContent);
    });
    out.trainButtonDisabledWhileRunning = await page.locator("[data-testid=train]").isDisabled();
    await page.waitForFunction(() => {
      const log = document.querySelector("[data-testid=training-log]");
      return log && log.textContent.split("\n").length > 3;
    });
    await shot(page, "console-training.png");
    out.stagesSeen = new Set();
    const started = Date.now();
    while (Date.now() - started < config.trainTimeoutMs) {
      const state = await page.locator("[data-testid=training-state]").innerText();
      const stage = /stage: ([a-z ]+)/.exec(state);
      if (stage) out.stagesSeen.add(stage[1].trim());
      if (/Training (done|failed)/.test(state)) { out.trainingState = state; break; }
      await page.waitForTimeout(500);
    }
    out.stagesSeen = [...out.stagesSeen];
    out.trainingLog = await page.locator("[data-testid=training-log]").innerText();
    if (!/Training done/.test(out.trainingState || "")) throw new Error(`training: ${out.trainingState}\n${out.trainingLog}`);

    // Compare: the candidate next to the running model.
    await page.waitForSelector("[data-testid=model-comparison]");
    out.comparison = await page.locator("[data-testid=comparison-row]").allInnerTexts();
    out.comparisonNlu = await page.locator("[data-testid=model-comparison] tbody tr").last().innerText();
    out.belowFloors = await page.locator("[data-testid=below-floors]").count();
    await shot(page, "console-compare.png");

    // Publish, while the pytest side keeps a conversation going.
    out.publishClickedAt = Date.now();
    await page.click("[data-testid=publish]");
    await page.waitForFunction(() =>
      /publishing: done|Rasa|refused|not/.test(document.querySelector("[data-testid=models-message]").textContent),
      null, { timeout: config.trainTimeoutMs });
    out.publishDoneAt = Date.now();
    out.publishMessage = await page.locator("[data-testid=models-message]").innerText();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=history-row]").length >= 2);
    out.history = await page.locator("[data-testid=history-row]").allInnerTexts();
    await shot(page, "console-published.png");
  }, "console-models-failure.png");
}

main();

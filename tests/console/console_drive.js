// Drives the staff console in Debian's headless Chromium (playwright-core), as staff would:
// log in, chat in "Try it", open the transcript, mark a turn wrong, export, then look at the
// list and the summary. Prints one JSON line of observations; the pytest side asserts on them.
//
//   node tests/console/console_drive.js '<json config>'
//
// A step that times out exits 1 after a screenshot (console-failure.png), so a broken page
// fails the test rather than producing empty observations.
"use strict";

const { config, TIMEOUT, shot, drive } = require("./console_page");

async function turnCount(page) {
  return page.locator("[data-testid=try-turns] [data-testid=turn]").count();
}

async function say(page, text) {
  const before = await turnCount(page);
  await page.fill("[data-testid=try-input]", text);
  await page.press("[data-testid=try-input]", "Enter");
  await page.waitForFunction(
    (before) => document.querySelectorAll("[data-testid=try-turns] [data-testid=turn]").length > before,
    before,
    { timeout: TIMEOUT }
  );
  return page.locator("[data-testid=try-turns] [data-testid=turn]").last();
}

async function describeTurn(turn) {
  const text = async (selector) => {
    const node = turn.locator(selector);
    return (await node.count()) ? (await node.first().innerText()).trim() : null;
  };
  return {
    user: await text(".bubble.user"),
    intent: await text("[data-testid=intent]"),
    nlu: await text("[data-testid=nlu]"),
    slots: await text("[data-testid=slots]"),
    actions: await text("[data-testid=actions]"),
    organisations: await turn.locator("[data-testid=organisations] li").allInnerTexts(),
    services: await turn.locator("[data-testid=services] tbody tr").allInnerTexts(),
    bot: await turn.locator(".bubble.bot").allInnerTexts(),
    htmlElementsInUserBubble: await turn.locator(".bubble.user *").count(),
  };
}

async function main() {
  await drive(async (page, out) => {
    // Not logged in: every page leads to the login form.
    await page.goto(config.url + "/#summary");
    out.loginUrl = page.url();
    await page.fill("input[name=username]", config.user);
    await page.fill("input[name=password]", "not the password");
    await page.click("button[type=submit]");
    out.wrongPasswordMessage = (await page.innerText("[data-testid=login-error]")).trim();
    await page.fill("input[name=username]", config.user);
    await page.fill("input[name=password]", config.password);
    await shot(page, "console-login.png");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("user").textContent.length > 0);
    out.user = await page.innerText("[data-testid=user]");
    // The refused password above is an expected HTTP error; from here on there must be none.
    out.loginConsoleErrors = out.events.consoleErrors.splice(0);

    // Try it: a fresh test user, a question, an attack, and a message the NLU cannot place.
    await page.click("[data-testid=try-new]");
    await page.waitForFunction(() => document.querySelector("[data-testid=try-sender]").textContent.startsWith("console-test-"));
    out.sender = await page.innerText("[data-testid=try-sender]");
    const answer = await say(page, config.question);
    await answer.locator("[data-testid=services]").waitFor();
    out.answerTurn = await describeTurn(answer);
    out.attackTurn = await describeTurn(await say(page, config.attack));
    out.unclearTurn = await describeTurn(await say(page, config.unclear));
    await shot(page, "console-try-it.png");

    // The transcript of the same conversation, from the tracker store.
    await page.click("[data-testid=try-open]");
    await page.locator("[data-testid=transcript] [data-testid=turn]").nth(2).waitFor();
    const turns = page.locator("[data-testid=transcript] [data-testid=turn]");
    out.transcriptTurns = await turns.count();
    out.transcriptAnswer = await describeTurn(turns.nth(0));
    // Mark the unclear turn wrong: the right intent and organisation.
    const wrong = turns.nth(2);
    const predicted = (await wrong.locator("[data-testid=intent]").innerText()).trim();
    out.correctedIntent = predicted === config.fixIntent ? config.fixIntentAlt : config.fixIntent;
    await wrong.locator("[data-testid=mark-wrong]").click();
    await wrong.locator("[data-testid=fix-intent]").selectOption(out.correctedIntent);
    await wrong.locator("[data-testid=fix-org]").selectOption(config.fixOrg);
    await wrong.locator("[data-testid=fix-save]").click();
    const badge = page.locator("[data-testid=transcript] [data-testid=turn]").nth(2).locator("[data-testid=correction]");
    await badge.waitFor();
    out.correctionBadge = await badge.innerText();
    await shot(page, "console-transcript.png");

    // Export as a test story + NLU examples.
    await page.click("[data-testid=export]");
    await page.locator("[data-testid=story-yaml]").waitFor();
    out.storyPath = (await page.innerText("[data-testid=path-story]")).trim();
    out.nluPath = (await page.locator("[data-testid=path-nlu]").count()) ? (await page.innerText("[data-testid=path-nlu]")).trim() : null;
    out.storyShown = await page.innerText("[data-testid=story-yaml]");
    await page.locator("[data-testid=story-yaml]").scrollIntoViewIfNeeded();
    await shot(page, "console-export.png");

    // The list: search finds the conversation.
    await page.click("nav a[data-view=conversations]");
    await page.locator("[data-testid=filters] [data-testid=search]").waitFor();
    await page.locator("[data-testid=open-conversation]").first().waitFor();
    await page.fill("[data-testid=search]", config.search);
    await page.press("[data-testid=search]", "Enter");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=open-conversation]").length === 1);
    out.listRows = await page.locator("[data-testid=conversation-list] tbody tr").allInnerTexts();
    out.searchBoxAfter = await page.inputValue("[data-testid=search]");
    await shot(page, "console-conversations.png");

    // The summary: charts drawn as SVG.
    await page.click("nav a[data-view=summary]");
    const filters = page.locator("[data-testid=summary-filters]");
    await filters.waitFor();
    await filters.locator("select[name=source]").selectOption("all");
    await filters.locator("button[type=submit]").click();
    await page.locator("[data-testid=chart-per-day] svg rect").first().waitFor();
    out.totals = await page.innerText("[data-testid=totals]");
    out.chartBars = {};
    for (const id of ["chart-per-day", "chart-fallback", "chart-unanswered", "chart-organisations", "chart-languages"]) {
      out.chartBars[id] = await page.locator(`[data-testid=${id}] svg rect`).count();
    }
    await shot(page, "console-summary.png");

    // Logging out ends the session: the API refuses the old cookie (an expected 401).
    out.consoleErrorsBeforeLogout = out.events.consoleErrors.slice();
    await page.click("#logout");
    await page.waitForURL(/\/login$/);
    out.afterLogout = await page.evaluate(async () => (await fetch("/api/meta")).status);
  }, "console-failure.png", { watchRequests: true });
}

main();

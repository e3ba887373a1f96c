// Drives the chat page in Debian's headless Chromium (playwright-core) for tests/browser.
//
//   node tests/browser/drive.js '<json>'
//   with {"scenario": "conversation" | "hostile" | "launcher" | "direction" | "languages" | "burst", ...}
//
// It does what a person would (type, press Enter, reload) on a phone-sized viewport, waits
// for the bot, saves screenshots, and prints one JSON line of observations on stdout; the
// pytest side asserts on them. A step that times out exits 1 (with a screenshot), so a page
// that never answers fails the test instead of producing empty observations.
"use strict";

const fs = require("fs");
const path = require("path");
const { launchFresh } = require("../chromium_launch");

const config = JSON.parse(process.argv[2] || "{}");
const ARTIFACTS = config.artifacts;
const TIMEOUT = config.timeoutMs || 60000;

// A phone-sized viewport, as most newcomers will see the widget.
function launch(options) {
  return launchFresh(config.chromium, {
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
    ...options,
  });
}

function watch(page, events) {
  page.on("dialog", async (dialog) => {
    events.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  page.on("pageerror", (error) => events.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") events.consoleErrors.push(message.text());
  });
  page.on("request", (request) => {
    const host = new URL(request.url()).hostname;
    if (!["127.0.0.1", "localhost"].includes(host) && !request.url().startsWith("data:")) {
      events.externalRequests.push(request.url());
    }
  });
}

async function responses(page) {
  return page.$$eval(".rw-response", (nodes) => nodes.map((n) => n.innerText));
}

async function clients(page) {
  return page.$$eval(".rw-client", (nodes) => nodes.map((n) => n.innerText));
}

// Waits until a bot bubble after the first `after` ones contains `expect` (any text when
// empty), then until no new bubble arrives for a moment (answers come in several bubbles).
async function waitForReply(page, after, expect) {
  await page.waitForFunction(
    ([after, expect]) => {
      const texts = [...document.querySelectorAll(".rw-response")].map((n) => n.innerText);
      return texts.slice(after).some((t) => (expect ? t.includes(expect) : t.trim().length > 0));
    },
    [after, expect || ""],
    { timeout: TIMEOUT, polling: 100 }
  );
  let count = (await responses(page)).length;
  for (;;) {
    await page.waitForTimeout(1200);
    const now = (await responses(page)).length;
    if (now === count) break;
    count = now;
  }
  return (await responses(page)).slice(after);
}

async function ask(page, text, expect) {
  const before = (await responses(page)).length;
  const input = page.locator(".rw-new-message");
  await input.waitFor({ state: "visible", timeout: TIMEOUT });
  await input.fill(text);
  await input.press("Enter");
  await page.waitForFunction(
    (text) => [...document.querySelectorAll(".rw-client")].some((n) => n.innerText === text),
    text,
    { timeout: TIMEOUT }
  );
  return waitForReply(page, before, expect);
}

// Asks, and when the bot answers with quick-reply buttons instead (a clarifying question),
// taps the one titled `choice`, as a person would; then waits for `expect`.
async function askOrChoose(page, text, expect, choice) {
  const before = (await responses(page)).length;
  const input = page.locator(".rw-new-message");
  await input.fill(text);
  await input.press("Enter");
  const button = page.locator(".rw-replies .rw-reply", { hasText: choice });
  const answered = page.waitForFunction(
    ([after, expect]) =>
      [...document.querySelectorAll(".rw-response")]
        .slice(after)
        .some((n) => n.innerText.includes(expect)),
    [before, expect],
    { timeout: TIMEOUT, polling: 100 }
  );
  const asked = choice
    ? button.first().waitFor({ state: "visible", timeout: TIMEOUT })
    : new Promise(() => {});
  const first = await Promise.race([answered.then(() => "answer"), asked.then(() => "choice")]);
  let chose = null;
  if (first === "choice") {
    chose = (await button.first().innerText()).trim();
    await button.first().click();
  }
  return { chose, replies: await waitForReply(page, before, expect) };
}

async function layout(page) {
  return page.evaluate(() => {
    const box = (selector) => {
      const node = document.querySelector(selector);
      if (!node) return null;
      const r = node.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    };
    const bubbles = [...document.querySelectorAll(".rw-response, .rw-client")].map((n) =>
      Math.round(n.getBoundingClientRect().right)
    );
    return {
      viewportWidth: window.innerWidth,
      viewportHeight: window.innerHeight,
      scrollWidth: document.documentElement.scrollWidth,
      input: box(".rw-new-message"),
      messages: box(".rw-messages-container"),
      widestBubbleRight: Math.max(0, ...bubbles),
    };
  });
}

async function linksAfter(page, after) {
  // Links in the bot bubbles after the first `after` ones.
  return page.$$eval(
    ".rw-response",
    (nodes, after) =>
      nodes.slice(after).flatMap((n) => [...n.querySelectorAll("a[href]")].map((a) => a.href)),
    after
  );
}

async function conversation(page, events) {
  const out = {};
  await page.goto(config.url);
  out.greeting = await waitForReply(page, 0, config.greeting);
  const started = Date.now();
  const before = (await responses(page)).length;
  out.answer = await ask(page, config.question, config.expect);
  out.answerSeconds = (Date.now() - started) / 1000;
  out.answerLinks = await linksAfter(page, before);
  out.answerHasLineBreaks = out.answer.some((t) => t.trim().includes("\n"));
  out.layout = await layout(page);
  await page.screenshot({ path: path.join(ARTIFACTS, "widget-answer.png") });
  const sessionBefore = await page.evaluate(() => sessionStorage.getItem("chat_session"));
  out.clientsBefore = await clients(page);
  out.responsesBefore = await responses(page);

  await page.reload();
  // The restored conversation must show up by itself, before anyone types.
  await page.waitForFunction(
    (question) => [...document.querySelectorAll(".rw-client")].some((n) => n.innerText === question),
    config.question,
    { timeout: TIMEOUT }
  );
  await page.waitForTimeout(1500); // a re-sent greeting would arrive now
  out.clientsAfterReload = await clients(page);
  out.responsesAfterReload = await responses(page);
  const sessionAfter = await page.evaluate(() => sessionStorage.getItem("chat_session"));
  out.sessionId = JSON.parse(sessionBefore || "{}").session_id || null;
  out.sessionIdAfterReload = JSON.parse(sessionAfter || "{}").session_id || null;
  await page.screenshot({ path: path.join(ARTIFACTS, "widget-after-reload.png") });

  const followUp = await askOrChoose(
    page, config.followUp, config.followUpExpect, config.followUpChoice
  );
  out.followUp = followUp.replies;
  out.followUpChoice = followUp.chose;
  out.layoutAfterFollowUp = await layout(page);
  await page.screenshot({ path: path.join(ARTIFACTS, "widget-follow-up.png") });
  return out;
}

async function hostile(page, events) {
  const out = { sent: [], replies: [] };
  await page.goto(config.url);
  out.greeting = await waitForReply(page, 0, "");
  for (const text of config.messages) {
    out.replies.push(await ask(page, text, ""));
    out.sent.push(text);
  }
  // Every link in the chat that does not go to an http(s) page gets clicked: no script may run.
  const links = page.locator('.opastin-chat a:not([href^="http"])');
  for (let i = 0; i < (await links.count()); i += 1) {
    await links.nth(i).click({ force: true, modifiers: [] }).catch(() => {});
  }
  await page.waitForTimeout(1000);
  out.clients = await clients(page);
  out.dom = await page.evaluate(() => {
    const chat = document.querySelector(".opastin-chat");
    return {
      injectedImages: document.querySelectorAll('img[src="x"], img[onerror]').length,
      scriptsInChat: chat.querySelectorAll("script").length,
      elementsWithHandlers: chat.querySelectorAll("[onerror], [onload], [onclick]").length,
      iframes: chat.querySelectorAll("iframe").length,
      javascriptLinks: chat.querySelectorAll('a[href^="javascript:" i]').length,
      blockedLinks: chat.querySelectorAll("a[data-opastin-blocked-link]").length,
      pwned: window.__opastinPwned === true,
    };
  });
  await page.screenshot({ path: path.join(ARTIFACTS, `widget-hostile-${config.name}.png`) });
  return out;
}

async function launcher(page, events) {
  // The example city page: a launcher button opens the chat.
  const out = {};
  await page.goto(config.url);
  await page.locator(".rw-launcher").click({ timeout: TIMEOUT });
  out.greeting = await waitForReply(page, 0, config.greeting);
  out.reply = await ask(page, config.question, config.expect);
  out.layout = await layout(page);
  // The widget's words, which the loader fetched from beside itself (no page server help).
  out.placeholder = await page.locator(".rw-new-message").getAttribute("placeholder");
  await page.screenshot({ path: path.join(ARTIFACTS, "widget-example-page.png") });
  return out;
}

async function burst(page, events) {
  // A person pasting many messages at once: more than the server's per-conversation limit,
  // sent without waiting for the replies. The widget must say to wait (the server refused the
  // rest), the notice must go away when the wait is over, and the conversation must go on.
  const out = {};
  await page.goto(config.url);
  out.greeting = await waitForReply(page, 0, config.greeting);
  const input = page.locator(".rw-new-message");
  for (let i = 0; i < config.count; i++) {
    await input.fill(`burst ${i}`);
    await input.press("Enter");
  }
  const notice = page.locator(".opastin-notice");
  await notice.waitFor({ state: "visible", timeout: TIMEOUT });
  out.notice = await notice.innerText();
  out.role = await notice.getAttribute("role");
  out.noticeBox = await notice.boundingBox();
  out.viewport = page.viewportSize();
  await page.screenshot({ path: path.join(ARTIFACTS, `widget-slow-down-${config.name}.png`) });
  await notice.waitFor({ state: "hidden", timeout: TIMEOUT });
  out.after = await ask(page, config.question, config.expect);
  return out;
}

// Where the chat's parts are, and how the words of the last two bubbles are ordered on screen.
async function directionLayout(page) {
  return page.evaluate(
    (fragments) => {
      // Where a piece of text is drawn: the box of its first occurrence under `root` (a Range
      // over the text node), so a test can tell the visual order bidi reordering produces.
      const textBox = (root, fragment) => {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at = node.data.indexOf(fragment);
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + fragment.length);
          const r = range.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
        }
        return null;
      };
      const box = (node) => {
        if (!node) return null;
        const r = node.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      };
      const last = (selector) => [...document.querySelectorAll(selector)].pop() || null;
      const client = last(".rw-client");
      const response = last(".rw-response");
      const style = (node) => {
        const s = getComputedStyle(node);
        return {
          direction: s.direction,
          textAlign: s.textAlign,
          paddingLeft: parseFloat(s.paddingLeft),
          paddingRight: parseFloat(s.paddingRight),
        };
      };
      const words = (root) =>
        Object.fromEntries(fragments.map((fragment) => [fragment, textBox(root, fragment)]));
      const link = response && response.querySelector("a[href]");
      return {
        htmlDir: document.documentElement.getAttribute("dir"),
        documentDirection: getComputedStyle(document.documentElement).direction,
        chatDirection: getComputedStyle(document.querySelector(".opastin-chat")).direction,
        container: box(document.querySelector(".rw-messages-container")),
        client: box(client),
        response: box(response),
        clientStyle: style(client),
        responseStyle: style(response),
        field: box(document.querySelector(".rw-new-message")),
        send: box(document.querySelector(".rw-send")),
        clientWords: words(client),
        responseWords: words(response),
        // The first and last character of the link's text (a URL): its reading order.
        linkText: link ? link.textContent : null,
        linkStart: link ? textBox(link, link.textContent.slice(0, 1)) : null,
        linkEnd: link ? textBox(link, link.textContent.slice(-1)) : null,
      };
    },
    config.fragments || []
  );
}

async function direction(page, events) {
  // One message on a page of the given language; where everything ended up, and a screenshot.
  const out = {};
  await page.goto(config.url);
  out.greeting = await waitForReply(page, 0, config.greeting);
  out.reply = await ask(page, config.message, config.expect);
  out.layout = await directionLayout(page);
  out.screenshot = path.join(ARTIFACTS, `widget-direction-${config.name}.png`);
  await page.screenshot({ path: out.screenshot });
  return out;
}

async function languages(page, events, context) {
  // Each page language in a fresh tab (a tab keeps its conversation in session storage): the
  // page's words, the widget's, and the greeting the bot sends back with the page language.
  const out = { pages: {} };
  for (const language of config.languages) {
    const tab = await context.newPage();
    watch(tab, events);
    await tab.goto(`${config.url}/?lang=${language}`);
    const greeting = await waitForReply(tab, 0, `Echo (${language}): /greet`);
    await tab.locator(".rw-send[aria-label]").waitFor({ state: "attached", timeout: TIMEOUT });
    const seen = await tab.evaluate(() => {
      const field = document.querySelector(".rw-new-message");
      return {
        htmlLang: document.documentElement.lang,
        htmlDir: document.documentElement.getAttribute("dir"),
        title: document.title,
        intro: document.querySelector(".page-header p").textContent,
        placeholder: field.getAttribute("placeholder"),
        sendLabel: document.querySelector(".rw-send").getAttribute("aria-label"),
        chatLang: document.querySelector(".opastin-chat").getAttribute("lang"),
        links: [...document.querySelectorAll(".page-header nav a")].map((a) => ({
          text: a.textContent,
          hreflang: a.getAttribute("hreflang"),
          href: a.getAttribute("href"),
          current: a.getAttribute("aria-current"),
        })),
        scrollWidth: document.documentElement.scrollWidth,
        viewportWidth: window.innerWidth,
      };
    });
    const screenshot = path.join(ARTIFACTS, `widget-lang-${language}.png`);
    await tab.screenshot({ path: screenshot });
    out.pages[language] = { ...seen, greeting, screenshot };
    await tab.close();
  }
  return out;
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const events = {
    dialogs: [],
    pageErrors: [],
    consoleErrors: [],
    externalRequests: [],
    popups: [],
  };
  const { context, profile } = await launch({ bypassCSP: Boolean(config.bypassCSP) });
  const page = context.pages()[0] || (await context.newPage());
  watch(page, events);
  // A link with target=_blank runs in a new tab: watch those too.
  context.on("page", (popup) => {
    events.popups.push(popup.url());
    watch(popup, events);
  });
  let result;
  try {
    const run = { conversation, hostile, launcher, direction, languages, burst }[config.scenario];
    if (!run) throw new Error(`unknown scenario ${config.scenario}`);
    result = await run(page, events, context);
  } catch (error) {
    const shot = path.join(ARTIFACTS, `widget-failure-${config.scenario}.png`);
    await page.screenshot({ path: shot }).catch(() => {});
    const state = {
      responses: await responses(page).catch(() => []),
      clients: await clients(page).catch(() => []),
      events,
    };
    console.error(`${error.stack || error}\nscreenshot: ${shot}\n${JSON.stringify(state)}`);
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(1);
  }
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ...result, events }) + "\n");
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});

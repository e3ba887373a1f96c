// What the console's browser drivers (console_drive.js, models_drive.js) share: their JSON
// config from argv, screenshots, and one run in a fresh desktop-sized Chromium that records
// dialogs, page errors and console errors, prints the observations as one JSON line, or on a
// failed step saves a screenshot, prints the error and what was seen, and exits 1 (so a broken
// page fails the test instead of producing empty observations).
"use strict";

const fs = require("fs");
const path = require("path");
const { launchFresh } = require("../chromium_launch");

const config = JSON.parse(process.argv[2] || "{}");
const TIMEOUT = config.timeoutMs || 60000;

function shot(page, name) {
  return page.screenshot({ path: path.join(config.artifacts, name), fullPage: true });
}

// Runs `steps(page, out)`; `watchRequests` also lists requests to hosts other than this machine.
async function drive(steps, failureShot, { watchRequests = false } = {}) {
  const { context, profile } = await launchFresh(config.chromium, {
    viewport: { width: 1280, height: 900 },
  });
  const events = { dialogs: [], pageErrors: [], consoleErrors: [] };
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  page.on("dialog", async (dialog) => {
    events.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  page.on("pageerror", (error) => events.pageErrors.push(String(error)));
  page.on("console", (m) => m.type() === "error" && events.consoleErrors.push(m.text()));
  if (watchRequests) {
    events.externalRequests = [];
    page.on("request", (request) => {
      const host = new URL(request.url()).hostname;
      if (!["127.0.0.1", "localhost"].includes(host)) events.externalRequests.push(request.url());
    });
  }
  const out = { events };
  try {
    await steps(page, out);
  } catch (error) {
    await shot(page, failureShot).catch(() => null);
    console.error(String(error && error.stack ? error.stack : error));
    console.error(JSON.stringify(out));
    await context.close();
    process.exit(1);
  }
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  console.log(JSON.stringify(out));
}

module.exports = { config, TIMEOUT, shot, drive };

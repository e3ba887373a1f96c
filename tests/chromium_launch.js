// Launch Debian's headless Chromium for a node test driver (tests/browser/drive.js,
// tests/console/console_drive.js) with a fresh profile: no cached session or storage from an
// earlier test. The caller removes `profile` when it is done.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];

async function launchFresh(executablePath, options) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "opastin-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    ...options,
  });
  return { context, profile };
}

module.exports = { launchFresh };

// Headless Chromium with WebGPU (SwiftShader where there is no GPU), driven
// by playwright-core. The browser is the system's: $CHROMIUM, else
// /usr/bin/chromium; nothing is ever downloaded.
import { chromium } from 'playwright-core';

const args = [
  '--headless',
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
  });
}

/**
 * A new page that records console errors and uncaught exceptions in
 * `page.problems`, so tests can show them when something fails.
 */
export async function openPage(browser) {
  const page = await browser.newPage();
  page.problems = [];
  page.on('console', (m) => m.type() === 'error' && page.problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

/**
 * Opens a page running app.mjs at `url` with `input` and returns what it
 * wrote into #result; fails with the page's errors if it never finishes.
 */
export async function runApp(page, url, input) {
  const target = new URL(url);
  target.searchParams.set('input', JSON.stringify(input));
  await page.goto(target.href);
  try {
    await page.waitForFunction(() => document.body.dataset.status, null, { timeout: 120_000 });
  } catch (e) {
    throw new Error(`${url} did not finish: ${e.message}\n${page.problems.join('\n')}`);
  }
  return JSON.parse(await page.textContent('#result'));
}

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { REPO_ROOT } from './archipel-process.ts';

/** Where browser tests leave their screenshots (CI keeps the folder as an artifact). */
export const ARTIFACTS_DIR = process.env.ARCHIPEL_ARTIFACTS_DIR ?? path.join(REPO_ROOT, 'artifacts');

/** The widths the portal must work at: a laptop and a phone. */
export const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Debian's Chromium, headless (`apt-get install -y chromium`; CHROMIUM_PATH elsewhere). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A page in a fresh browser context (its own storage: one signed-in user per page); close its context. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: WIDTHS[0].width, height: WIDTHS[0].height }, ...options });
  return context.newPage();
}

/**
 * Screenshots of the page at each width, as `<folder>/<name>-<width>.png`, each after an accessibility
 * scan at that width that must find no serious or critical violation.
 */
export async function captureAtBothWidths(page: Page, folder: string, name: string): Promise<void> {
  const dir = path.join(ARTIFACTS_DIR, folder);
  mkdirSync(dir, { recursive: true });
  const before = page.viewportSize();
  for (const w of WIDTHS) {
    await page.setViewportSize({ width: w.width, height: w.height });
    await expectAccessible(page, `${name} at ${w.width} px`);
    // Nothing may stick out sideways on a phone: the page scrolls only down.
    // (An expression string: the tests are type-checked without the DOM's types.)
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, `${name} at ${w.width} px is wider than the window`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(dir, `${name}-${w.width}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

/** An axe-core scan of the page as it is now (WCAG 2.1 A and AA rules). */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  expect(bad, `accessibility of ${what}`).toEqual([]);
}

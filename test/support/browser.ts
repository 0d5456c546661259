// Debian's Chromium driven by playwright-core: never a downloaded browser. Headless, without sandbox
// (CI runs as root), GPU, QUIC or any background traffic; playwright gives each launch a fresh
// user-data-dir of its own. Also: axe-core run inside a page, and screenshots as test artifacts.
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = process.env.RPMGATE_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether Debian's chromium is installed (null), or why not. */
export async function chromiumMissing(): Promise<string | null> {
  try {
    await access(chromiumPath, constants.X_OK);
    return null;
  } catch {
    return `${chromiumPath} is not installed (apt-get install chromium)`;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

export const viewports = {
  laptop: { width: 1366, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** Where screenshots go: test-artifacts/ (gitignored) at the repository's root. */
export const artifactsDir = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../test-artifacts');

/** A full-page screenshot of the page at each viewport, as test-artifacts/<dir>/<name>-<viewport>.png. */
export async function screenshotBoth(page: Page, dir: string, name: string): Promise<string[]> {
  const target = path.join(artifactsDir, dir);
  await mkdir(target, { recursive: true });
  const original = page.viewportSize();
  const files: string[] = [];
  for (const [label, size] of Object.entries(viewports)) {
    await page.setViewportSize(size);
    const file = path.join(target, `${name}-${label}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  if (original) await page.setViewportSize(original);
  return files;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

let axeSource: Promise<string> | undefined;

/**
 * axe-core's violations on the page as it stands. axe is evaluated through the DevTools protocol,
 * which the console's Content-Security-Policy (no inline script) does not govern.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(await axeSource);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}

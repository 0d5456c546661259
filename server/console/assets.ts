// The console's own stylesheet and script, read once and served under a name that carries their digest
// (/ui/assets/console.<digest>.css), so browsers may keep them for good and a new version is a new URL.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface Asset {
  body: Buffer;
  contentType: string;
  href: string;
}

const types: Record<string, string> = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };

const assets = new Map<string, Asset>();
const byHref = new Map<string, Asset>();
for (const file of ['console.css', 'console.js']) {
  const body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const [base, extension] = file.split('.') as [string, string];
  const asset = { body, contentType: types[extension]!, href: `/ui/assets/${base}.${digest}.${extension}` };
  assets.set(file, asset);
  byHref.set(asset.href, asset);
}

export function assetHref(file: 'console.css' | 'console.js'): string {
  return assets.get(file)!.href;
}

/** The asset a request path names, or null. */
export function findAsset(path: string): Asset | null {
  return byHref.get(path) ?? null;
}

// Starts one of rpmgate's programs: its bundle under dist/ (built by `npm ci` through the prepare
// script, or `npm run build:cli`) while no source it was built from is newer, else the TypeScript sources
// through tsx. So a fresh checkout starts fast, and an edited one runs what was edited.
// RPMGATE_FROM_SOURCES=1 always takes the sources.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** True when the bundle exists and no file of the sources.json beside it (paths from `checkout`) changed after it was built. */
export function bundleIsFresh(bundle, checkout = root) {
  try {
    const built = statSync(bundle).mtimeMs;
    const { sources } = JSON.parse(readFileSync(new URL('sources.json', bundle), 'utf8'));
    return sources.every((source) => statSync(new URL(source, checkout)).mtimeMs <= built);
  } catch {
    return false;
  }
}

export async function launch(bundlePath, sourcePath) {
  const bundle = new URL(bundlePath, root);
  if (process.env.RPMGATE_FROM_SOURCES !== '1' && bundleIsFresh(bundle)) {
    await import(bundle.href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL(sourcePath, root).href);
}

// The console's static files: the page, its script and style from ./console/, and uPlot's
// browser build from node_modules (served by us, so the console needs no CDN). Read once, kept
// in memory, served by exact path only (no file-system lookups from request paths).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

const require = createRequire(import.meta.url);

const FILES: readonly { path: string; file: () => string; contentType: string }[] = [
  { path: '/', file: () => fileURLToPath(new URL('./console/index.html', import.meta.url)), contentType: 'text/html; charset=utf-8' },
  { path: '/console.js', file: () => fileURLToPath(new URL('./console/console.js', import.meta.url)), contentType: 'text/javascript; charset=utf-8' },
  { path: '/console.css', file: () => fileURLToPath(new URL('./console/console.css', import.meta.url)), contentType: 'text/css; charset=utf-8' },
  { path: '/vendor/uPlot.iife.min.js', file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), contentType: 'text/javascript; charset=utf-8' },
  { path: '/vendor/uPlot.min.css', file: () => require.resolve('uplot/dist/uPlot.min.css'), contentType: 'text/css; charset=utf-8' },
];

export async function loadConsoleAssets(): Promise<ReadonlyMap<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const f of FILES) assets.set(f.path, { contentType: f.contentType, body: await readFile(f.file()) });
  return assets;
}

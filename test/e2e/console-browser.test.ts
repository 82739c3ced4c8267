// End to end in a real browser: `tidemark demo` (what `npm start` runs) from a clean home, driven
// through its console in Chromium. The charts render with data, anomaly alerts appear, the
// numbers on the page equal what the API reads from the database, Ctrl-C exits 0, and a restart
// resumes from the checkpoint instead of starting over.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from '../support/run-cli.ts';
import type { CliResult } from '../support/run-cli.ts';
import { freePort, waitFor } from '../support/net.ts';

// The page functions below run in the browser; this file is compiled without the DOM library,
// so declare just what they touch.
interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
  readonly children: ArrayLike<{ readonly textContent: string | null }>;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement> & ArrayLike<PageElement>;
};

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

interface Demo {
  readonly url: string;
  readonly done: Promise<CliResult>;
  stop(): Promise<CliResult>;
}

async function startDemo(home: string, port: number): Promise<Demo> {
  const { child, done } = startCli(['demo'], {
    TIDEMARK_HOME: home,
    PORT: String(port),
    GENERATOR_RATE: '100',
    DEMO_BACKFILL: '10m',
    GENERATOR_ANOMALY_EVERY: '1m',
    // Not UTC: the page must show the mart time zone, not the browser's.
    MART_TIMEZONE: 'Europe/Berlin',
    LOG_LEVEL: 'warn',
  });
  const url = `http://127.0.0.1:${port}`;
  let exited: CliResult | undefined;
  void done.then((r) => (exited = r));
  await waitFor(
    'the demo to serve /healthz',
    async () => {
      if (exited !== undefined) throw new Error(`demo exited early (${exited.code}): ${exited.stderr}`);
      return (await fetch(`${url}/healthz`)).ok ? true : undefined;
    },
    180_000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    done,
    stop: async () => {
      child.kill('SIGINT');
      return done;
    },
  };
}

async function json<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

interface TopDocs {
  snapshot_ts: string | null;
  rows: { document_id: string; click_count: number }[];
}

describe('console in Chromium against `tidemark demo`', () => {
  const home = mkdtempSync(join(tmpdir(), 'tidemark-e2e-'));
  let browser: Browser | undefined;
  let demo: Demo | undefined;

  afterAll(async () => {
    await browser?.close();
    if (demo !== undefined) await demo.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('renders live data equal to the database, and stops cleanly on SIGINT', async () => {
    expect(existsSync(CHROMIUM), `Chromium is expected at ${CHROMIUM} (scripts/provision.sh --chromium installs it)`).toBe(true);
    demo = await startDemo(home, await freePort());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(demo.url);

    // The traffic chart: uPlot drew its canvas, with a non-empty series.
    await page.waitForSelector('[data-testid="traffic-chart"] canvas', { timeout: 120_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="traffic-chart"]')?.getAttribute('data-points')) > 0, undefined, { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="top-doc-row"]').length === 10, undefined, { timeout: 120_000 });
    await page.waitForSelector('[data-testid="anomaly-row"]', { timeout: 120_000 });
    expect(await page.locator('[data-testid="trend-row"]').count()).toBeGreaterThan(0);
    // The demo's data start an hour ago (its prelude a day ago): no full previous 24 h, so every
    // area's trend is n/a rather than a percentage against a partial day.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="trend-row"]')].every((tr) => tr.children[3]?.textContent === 'n/a'), undefined, { timeout: 60_000 });
    // The first render is the page's own snapshot; the live stream connects after it.
    await page.waitForFunction(() => document.querySelector('[data-testid="status-connection"]')?.textContent === 'live', undefined, { timeout: 60_000 });
    expect(await page.textContent('[data-testid="status-watermark"]')).not.toBe('–');

    // Once the catch-up of the generated history is over, the snapshot the page shows is settled.
    await waitFor('the stream to catch up', async () => ((await json<{ lag: number | null }>(`${demo!.url}/readyz`)).lag! < 1000 ? true : undefined), 240_000);

    // The top 10 on the page equal the database's snapshot the page shows (read through the API).
    // The page redraws every 2 s, so read it in one go and retry if a redraw fell in between.
    let lastMismatch = '';
    await waitFor(
      'the page top-10 to equal the API',
      async () => {
        const shown = await page.evaluate(() => ({
          snapshot: document.querySelector('[data-testid="top-docs"]')?.getAttribute('data-snapshot') ?? '',
          rows: [...document.querySelectorAll('[data-testid="top-doc-row"]')].map((tr) => ({
            document_id: tr.getAttribute('data-document-id') ?? '',
            click_count: Number(tr.getAttribute('data-clicks')),
            shown: Number(tr.children[2]?.textContent),
          })),
        }));
        const api = await json<TopDocs>(`${demo!.url}/api/marts/top-docs?limit=10&snapshot=${encodeURIComponent(shown.snapshot)}`);
        const same =
          api.snapshot_ts === shown.snapshot &&
          JSON.stringify(api.rows.map((r) => ({ document_id: r.document_id, click_count: r.click_count, shown: r.click_count }))) === JSON.stringify(shown.rows);
        lastMismatch = JSON.stringify({ shown, api });
        return same ? true : undefined;
      },
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; last seen: ${lastMismatch}`);
    });

    // The on-call panels against the API: archive health, alert delivery, dead-letter reasons of
    // the last hour, readiness; the zone, the provisional minutes, the trend's comparison window.
    let lastPanels = '';
    await waitFor(
      'the on-call panels to equal the API',
      async () => {
        const shown = await page.evaluate(() => {
          const text = (id: string): string => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
          return {
            zone: text('time-zone'),
            archive: [...document.querySelectorAll('[data-testid="archive-row"]')].map((tr) => ({
              consumer: tr.getAttribute('data-consumer'),
              watermark: tr.getAttribute('data-watermark'),
            })),
            delivery: { queued: Number(text('alerts-queued')), retrying: Number(text('alerts-retrying')), sent: Number(text('alerts-sent')), failed: Number(text('alerts-failed')) },
            reasons: [...document.querySelectorAll('[data-testid="dead-letter-reason-row"]')].map((tr) => ({
              reason: tr.getAttribute('data-reason'),
              count: Number(tr.getAttribute('data-count')),
            })),
            ready: document.querySelector('[data-testid="readiness"]')?.getAttribute('data-ready') ?? '',
            readyText: text('status-ready'),
          };
        });
        const status = await json<{
          archive: { consumer: string; watermark: string | null }[];
          alert_delivery: Record<string, number>;
          dead_letter_reasons_1h: { reason: string; count: number }[];
        }>(`${demo!.url}/api/status`);
        const readyz = await json<{ ready: boolean }>(`${demo!.url}/readyz`);
        const expected = {
          zone: 'Europe/Berlin',
          archive: status.archive.map((a) => ({ consumer: a.consumer, watermark: a.watermark ?? '' })),
          delivery: status.alert_delivery,
          reasons: status.dead_letter_reasons_1h,
          ready: String(readyz.ready),
          readyText: readyz.ready ? 'ready' : 'not ready',
        };
        lastPanels = JSON.stringify({ shown, expected });
        // Until the archive writer's first commit its panel is rightly empty: wait for it (it
        // flushes at the latest after ARCHIVE_FLUSH_INTERVAL, 60 s).
        return expected.archive.length > 0 && JSON.stringify(shown) === JSON.stringify(expected) ? shown : undefined;
      },
      150_000,
    ).then((shown) => {
      expect(shown.archive.map((a) => a.consumer)).toEqual(['demo-archive']);
      // The demo's generator sends a malformed message every 1999: dead letters by reason show.
      expect(shown.reasons.length).toBeGreaterThan(0);
      // No webhook in this demo: every raised alert is queued, none sent.
      expect(shown.delivery.sent).toBe(0);
      expect(shown.delivery.queued).toBeGreaterThan(0);
    }, (error: unknown) => {
      throw new Error(`${(error as Error).message}; last seen: ${lastPanels}`);
    });
    // The minutes at or after the stream's watermark (WATERMARK_DELAY, 10 min) are drawn as provisional.
    expect(Number(await page.getAttribute('[data-testid="traffic-chart"]', 'data-provisional-points'))).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid="final-before"]')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(await page.textContent('[data-testid="trend-explained"]')).toContain('the 24 h before it');
    // Why n/a, with the instants of the API's answer in the mart zone (a new snapshot every 5 min moves them).
    const inZone = (iso: string): string => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
    let lastCoverage = '';
    await waitFor('the trend coverage note to equal the API', async () => {
      const shown = await page.textContent('[data-testid="trend-coverage"]');
      const trend = await json<{ data_since: string; previous_window_start: string; previous_window_complete: boolean }>(`${demo!.url}/api/marts/clinical-trend`);
      const expected = `n/a: no full previous 24 h to compare with — the data start at ${inZone(trend.data_since)}, after the previous window began (${inZone(trend.previous_window_start)}).`;
      lastCoverage = JSON.stringify({ shown, expected });
      return shown === expected ? trend : undefined;
    }, 30_000).then((trend) => {
      expect(trend.previous_window_complete).toBe(false);
    }, (error: unknown) => {
      throw new Error(`${(error as Error).message}; last seen: ${lastCoverage}`);
    });
    expect(await page.textContent('[data-testid="alert-webhook"]')).toBe('No ALERT_WEBHOOK_URL in this process: it delivers none of them.');

    // The first render carries data: with the live feed blocked, the page still shows numbers.
    const still: Page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await still.route('**/api/live', (route) => route.abort());
    await still.goto(demo.url);
    expect(await still.textContent('[data-testid="status-connection"]')).not.toBe('live');
    expect(await still.locator('[data-testid="top-doc-row"]').count()).toBe(10);
    expect(await still.textContent('[data-testid="status-watermark"]')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(await still.locator('[data-testid="archive-row"]').count()).toBe(1);
    await still.close();

    // Alerts: the newest alert on the page is the newest in the outbox (or a newer one arrived).
    const anomalies = await json<{ rows: { session_id: string; severity: string }[] }>(`${demo.url}/api/anomalies?limit=20`);
    expect(anomalies.rows.length).toBeGreaterThan(0);
    const rowCount = await page.locator('[data-testid="anomaly-row"]').count();
    expect(rowCount).toBeGreaterThan(0);
    const severities = await page.locator('[data-testid="anomaly-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-severity')));
    expect(severities.every((s) => s === 'WARNING' || s === 'CRITICAL')).toBe(true);

    // The chart's series has as many points as the API's minutes for the same window (± the minute in progress).
    // On a busy machine the demo may still be writing its tenth minute: wait for it, do not race it.
    await expect
      .poll(async () => Number(await page.getAttribute('[data-testid="traffic-chart"]', 'data-points')), { timeout: 60_000, interval: 500 })
      .toBeGreaterThanOrEqual(10);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('console.png', ARTIFACTS).pathname, fullPage: true });
    await browser.close();
    browser = undefined;

    const before = await json<{ consumers: { consumer: string; committed_offsets: number }[] }>(`${demo.url}/api/status`);
    const result = await demo.stop();
    demo = undefined;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    const committedBefore = before.consumers.find((c) => c.consumer === 'demo')!.committed_offsets;
    expect(committedBefore).toBeGreaterThan(0);

    // A restart resumes from the checkpoint: the stream reads on from there instead of from zero.
    demo = await startDemo(home, await freePort());
    const resumed = await waitFor(
      'the restarted demo to commit',
      async () => {
        // Status first, then metrics: had the stream started over, it would have read at least
        // as many messages by the second read as were committed at the first.
        const status = await json<{ consumers: { consumer: string; committed_offsets: number }[] }>(`${demo!.url}/api/status`);
        const committed = status.consumers.find((c) => c.consumer === 'demo')!.committed_offsets;
        const metrics = await (await fetch(`${demo!.url}/metrics`)).text();
        const readNow = Number(/^tidemark_events_in_total (\d+)$/m.exec(metrics)?.[1] ?? 0);
        return readNow > 0 && committed > committedBefore ? { readNow, committed } : undefined;
      },
      120_000,
    );
    // What was committed before the restart was not read again.
    expect(resumed.readNow).toBeLessThan(resumed.committed);
    expect(resumed.readNow).toBeLessThan(committedBefore);
    const second = await demo.stop();
    demo = undefined;
    expect(second.code).toBe(0);
    // Two PGlite starts, a catch-up and a browser on a shared 2-core machine: minutes, not seconds.
  }, 600_000);
});

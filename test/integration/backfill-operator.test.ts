// `tidemark backfill` as an operator at 3 a.m. meets it (PostgreSQL, in-process queue, no Redis):
// a date in the future is refused; a step that waits says for which watermark, where it is, what
// it needs and when it is tried again (CLI and GET /api/job-run); `--cancel` from another
// terminal stops an in-process run; a run whose process was killed (-9) is marked abandoned by
// the next process that starts and can be resumed; `--assume-complete` is audited.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/io/db/database.ts';
import { addDays, endOfLocalDay, localDate, startOfLocalDay } from '../../src/marts/time-zone.ts';
import { dayEvents, setArchiveWatermark } from '../support/cold-path-fixtures.ts';
import { testDatabaseFactories } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { writeArchive } from '../support/lake-archive.ts';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { runCli, startCli } from '../support/run-cli.ts';

const ZONE = 'Europe/Berlin';
const DATE = '2026-03-10';
const pg = testDatabaseFactories().find((f) => f.kind === 'pg');

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runOutcome(db: Queryable, runId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ outcome: string }>(`SELECT outcome FROM job_runs WHERE run_id = $1 AND step IS NULL`, [runId]);
  return rows[0]?.outcome;
}

describe.runIf(pg !== undefined)('tidemark backfill for an operator (PostgreSQL, in-process)', () => {
  let t: TestDatabase;
  let root: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await pg!.create();
    root = mkdtempSync(join(tmpdir(), 'tidemark-lake-'));
    await writeArchive(openLocalFolderLake(root), dayEvents(DATE, 120, 'a', ZONE), ZONE);
    env = { DATABASE_URL: t.url!, LAKE_URL: `file://${root}`, MART_TIMEZONE: ZONE, LOG_LEVEL: 'error' };
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await t?.dispose();
  });

  it('refuses dates in the future, before recording anything', async () => {
    const tomorrow = addDays(localDate(Date.now(), ZONE), 1);
    const result = await runCli(['backfill', '--from', addDays(tomorrow, -1), '--to', tomorrow], env);
    expect(result.code).toBe(64);
    expect(result.stderr.split('\n')[0]).toBe(
      `tidemark backfill: ${tomorrow} is in the future (today is ${addDays(tomorrow, -1)} in ${ZONE}): there is nothing to compute yet`,
    );
    expect((await t.db.query(`SELECT * FROM job_runs`)).rows).toEqual([]);
  });

  it('a waiting step says why; --cancel without Redis stops the run', { timeout: 120_000 }, async () => {
    const watermark = startOfLocalDay(DATE, ZONE) + 6_600_000;
    await setArchiveWatermark(t.db, watermark);
    const run = startCli(['backfill', '--from', DATE, '--to', DATE, '--who', 'night-shift'], env);
    let stdout = '';
    run.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await until('the wait is explained', () => stdout.includes('waits for'));
    const runId = /^run (backfill-\S+): 1 days × completeness,cold,reconcile,quality \(in-process\)\n/.exec(stdout)?.[1];
    expect(runId).toBeDefined();
    const needed = new Date(endOfLocalDay(DATE, ZONE)).toISOString();
    const waitLine = new RegExp(
      `\\n${DATE} completeness waits for the archive watermark of tidemark-archive \\(at ${new Date(watermark).toISOString()}, needs ${needed}\\); next retry (\\S+) \\(attempt 1\\)\\n  archive of ${DATE} is not complete: the archive watermark ${new Date(watermark).toISOString()} \\(tidemark-archive\\) has not reached the end of the day ${needed} \\(${ZONE}\\); it advances with new events, or once the archive writer has committed every offset of the topic and been idle for IDLE_PARTITION_TIMEOUT; if no more events will come, \`tidemark backfill --assume-complete --reason …\` declares the day complete\\n`,
    );
    const nextRetry = waitLine.exec(stdout)?.[1];
    expect(nextRetry, stdout).toBeDefined();
    // The first retry of a not-ready step comes a minute after the attempt (the queue's policy).
    const attempt = await t.db.query<{ finished: Date; detail: Record<string, unknown> }>(
      `SELECT finished_at AS finished, detail FROM job_runs WHERE run_id = $1 AND step = 'completeness'`,
      [runId],
    );
    expect(attempt.rows[0]?.detail).toEqual({
      dry_run: false,
      waiting_for: 'archive',
      waiting_on: 'tidemark-archive',
      watermark: new Date(watermark).toISOString(),
      needed_watermark: needed,
      next_retry_at: nextRetry,
    });
    const retryIn = Date.parse(nextRetry!) - attempt.rows[0]!.finished.getTime();
    expect(retryIn).toBeGreaterThanOrEqual(55_000);
    expect(retryIn).toBeLessThanOrEqual(61_000);

    // Another terminal, no Redis: the request goes through job_runs to the process running it.
    const cancel = await runCli(['backfill', '--cancel', runId!, '--who', 'day-shift'], env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(`cancelling run ${runId} (the process running it stops it within seconds)\n`);
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(await runOutcome(t.db, runId!)).toBe('cancelled');
    const who = await t.db.query<{ by: string }>(`SELECT detail ->> 'cancel_requested_by' AS by FROM job_runs WHERE run_id = $1 AND step IS NULL`, [runId]);
    expect(who.rows).toEqual([{ by: 'day-shift' }]);
  });

  it('a killed run is marked abandoned by the next process, and resumes', { timeout: 180_000 }, async () => {
    const run = startCli(['backfill', '--from', DATE, '--to', DATE, '--who', 'night-shift'], env);
    let stdout = '';
    run.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await until('the run waits', () => stdout.includes('waits for'));
    const runId = /^run (backfill-\S+):/.exec(stdout)?.[1] as string;
    run.child.kill('SIGKILL');
    await run.done;
    expect(await runOutcome(t.db, runId)).toBe('running');
    // The dead process's heartbeat ages past OWNER_STALE_MS (30 s) — stated, not slept for.
    await t.db.query(`UPDATE job_owners SET heartbeat_at = now() - interval '1 hour'`);

    // The archive is complete now; any process that runs steps reaps the orphan first.
    await setArchiveWatermark(t.db, endOfLocalDay(DATE, ZONE));
    const other = await runCli(['backfill', '--from', DATE, '--to', DATE, '--steps', 'completeness', '--who', 'day-shift'], env);
    expect(other.code, other.stderr).toBe(0);
    expect(await runOutcome(t.db, runId)).toBe('abandoned');
    const dead = await t.db.query<{ step: string | null; outcome: string; resumable: string }>(
      `SELECT step, outcome, detail ->> 'resumable' AS resumable FROM job_runs WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
    expect(dead.rows).toEqual([
      { step: null, outcome: 'abandoned', resumable: 'true' },
      { step: 'completeness', outcome: 'not_ready', resumable: null },
    ]);

    const resumed = await runCli(['backfill', '--resume', runId, '--who', 'day-shift'], env);
    expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    expect(resumed.stdout.split('\n')[0]).toBe(`run ${runId} resumed: 1 days × completeness,cold,reconcile,quality (in-process)`);
    expect(await runOutcome(t.db, runId)).toBe('succeeded');
    const again = await runCli(['backfill', '--resume', runId], env);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe(`run ${runId} is not abandoned: nothing to resume\n`);
  });

  it('--assume-complete needs a reason and is audited with who and why', { timeout: 120_000 }, async () => {
    const noReason = await runCli(['backfill', '--from', DATE, '--to', DATE, '--assume-complete'], env);
    expect(noReason.code).toBe(64);
    expect(noReason.stderr.split('\n')[0]).toBe('tidemark backfill: --assume-complete needs --reason TEXT (it is audited)');

    await setArchiveWatermark(t.db, startOfLocalDay(DATE, ZONE));
    const result = await runCli(
      ['backfill', '--from', DATE, '--to', DATE, '--steps', 'completeness,cold', '--assume-complete', '--reason', 'source decommissioned', '--who', 'oncall'],
      env,
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const runId = /^run (backfill-\S+):/.exec(result.stdout)?.[1];
    const audit = await t.db.query<{ step: string | null; requested_by: string; assumed: unknown }>(
      `SELECT step, requested_by, coalesce(detail -> 'assume_complete', to_jsonb(detail ->> 'assumed_complete_reason')) AS assumed
         FROM job_runs WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
    expect(audit.rows).toEqual([
      { step: null, requested_by: 'oncall', assumed: { by: 'oncall', reason: 'source decommissioned' } },
      { step: 'completeness', requested_by: 'oncall', assumed: 'source decommissioned' },
      { step: 'cold', requested_by: 'oncall', assumed: null },
    ]);
    const day = await t.db.query<{ n: number }>(`SELECT total_events::int AS n FROM mart_daily_traffic WHERE event_date = $1`, [DATE]);
    expect(day.rows).toEqual([{ n: 120 }]);
  });
});

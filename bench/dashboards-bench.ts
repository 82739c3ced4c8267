// Dashboard benchmark: the marts at production scale — `--days` days (default 30) of a
// 10M-events/day workload, 2.2M sessions a day in mart_session_analysis, generated in SQL
// (test/support/dashboard-scale.ts) with the session rollups computed as the cold step does —
// then the bundle imported into the real Superset and every chart's data asked for through
// /api/v1/chart/data, as the browser does. Per chart: the rows its query returned against its
// row limit, PostgreSQL's execution time of the exact SQL Superset runs for it (EXPLAIN ANALYZE,
// median of --runs), and the whole API call (median, cache bypassed). Printed as a markdown table.
//
//   npm run bench:dashboards -- [--days 30] [--sessions 2200000] [--documents 5000] [--runs 5] [--keep]
//
// Needs TEST_DATABASE_URL (a throwaway database is created on it and dropped unless --keep) and
// the Superset of scripts/provision-superset.sh. 30 days take ~10 GB of disk and ~5 minutes to
// generate; run it under the shared benchmark lock.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { migrate } from '../src/io/db/migrate.ts';
import { createPgDatabase } from '../src/io/db/pg-database.ts';
import { addDays } from '../src/marts/time-zone.ts';
import { fillMartsAtScale } from '../test/support/dashboard-scale.ts';
import { chartDataRequest } from '../test/support/superset-chart-data.ts';
import { startSupersetServer, supersetEnv, supersetMissing } from '../test/support/superset-process.ts';
import { importBundle, listCharts, prepareSupersetMetadata, supersetApi, supersetLogin } from '../test/support/superset-session.ts';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    sessions: { type: 'string', default: '2200000' },
    documents: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '5' },
    end: { type: 'string', default: '2030-01-30' },
    keep: { type: 'boolean', default: false },
  },
});

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const log = (line: string): void => void process.stderr.write(`[bench:dashboards] ${line}\n`);

interface ChartResult {
  readonly result: readonly { readonly rowcount: number; readonly sql_rowcount?: number; readonly query?: string }[];
}

async function main(): Promise<void> {
  const databaseUrl = process.env['TEST_DATABASE_URL'] ?? process.env['DATABASE_URL'];
  const missing = supersetMissing();
  if (databaseUrl === undefined || missing !== undefined) {
    process.stderr.write(`bench:dashboards needs TEST_DATABASE_URL and Superset${missing === undefined ? '' : ` (${missing})`}\n`);
    process.exit(2);
  }
  const days = Number(values.days);
  const runs = Number(values.runs);
  const dates = Array.from({ length: days }, (_, i) => addDays(values.end, i - days + 1));
  const dbName = `tidemark_bench_${randomBytes(4).toString('hex')}`;
  const admin = createPgDatabase(databaseUrl, { max: 1 });
  await admin.exec(`CREATE DATABASE "${dbName}"`);
  const url = new URL(databaseUrl);
  url.pathname = `/${dbName}`;
  const db = createPgDatabase(url.toString(), { max: 2 });
  const home = mkdtempSync(join(tmpdir(), 'tidemark-bench-superset-'));
  let stop = async (): Promise<void> => {};
  try {
    await migrate(db);
    const rollupMs: number[] = [];
    const started = performance.now();
    await fillMartsAtScale(db, {
      dates,
      sessions: Number(values.sessions),
      documents: Number(values.documents),
      onStep: (what, ms) => {
        if (what.endsWith('session rollups')) rollupMs.push(ms);
        log(`${what}: ${(ms / 1000).toFixed(1)} s`);
      },
    });
    const size = await db.query<{ sessions: string; total: string }>(
      `SELECT pg_size_pretty(pg_total_relation_size('mart_session_analysis')) AS sessions, pg_size_pretty(pg_database_size(current_database())) AS total`,
    );
    log(`marts filled in ${((performance.now() - started) / 1000).toFixed(0)} s (mart_session_analysis ${size.rows[0]?.sessions}, database ${size.rows[0]?.total})`);

    const adminUser = { username: 'admin', password: `admin-${randomBytes(6).toString('hex')}` };
    const env = supersetEnv(home, randomBytes(32).toString('base64'));
    await prepareSupersetMetadata(env, adminUser);
    await importBundle(env, home, url.toString().replace(/^postgres(ql)?:/, 'postgresql+psycopg2:'), adminUser);
    const server = await startSupersetServer(env, join(home, 'server.log'));
    stop = server.stop;
    const session = await supersetLogin(server.url, adminUser);
    const { charts } = await listCharts(session);
    log(`Superset up, ${charts.length} charts`);

    const rows: string[] = [];
    let slowest = 0;
    for (const chart of [...charts].sort((a, b) => a.sliceName.localeCompare(b.sliceName))) {
      const request = chartDataRequest(chart);
      const apiMs: number[] = [];
      let fetched = 0;
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const data = await supersetApi<ChartResult>(session, '/api/v1/chart/data', request);
        apiMs.push(performance.now() - t0);
        fetched = data.result[0]?.sql_rowcount ?? data.result[0]?.rowcount ?? 0;
      }
      const sql = (await supersetApi<ChartResult>(session, '/api/v1/chart/data', { ...request, result_type: 'query' })).result[0]?.query ?? '';
      const sqlMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const plan = await db.query<{ 'QUERY PLAN': [{ 'Execution Time': number; 'Planning Time': number }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`);
        const top = plan.rows[0]?.['QUERY PLAN'][0];
        sqlMs.push((top?.['Execution Time'] ?? Number.NaN) + (top?.['Planning Time'] ?? 0));
      }
      slowest = Math.max(slowest, median(apiMs));
      const line = `| ${chart.sliceName} | ${fetched} / ${String(chart.params['row_limit'])} | ${median(sqlMs).toFixed(1)} ms | ${median(apiMs).toFixed(0)} ms |`;
      rows.push(line);
      log(line);
    }
    const sessions = Number(values.sessions).toLocaleString('en');
    process.stdout.write(
      [
        `${days} days × ${sessions} sessions/day (${(days * Number(values.sessions)).toLocaleString('en')} rows of mart_session_analysis), ${Number(values.documents).toLocaleString('en')} documents/day; medians of ${runs} runs`,
        `session rollups of one day (in the cold step's transaction): median ${(median(rollupMs) / 1000).toFixed(1)} s, max ${(Math.max(...rollupMs) / 1000).toFixed(1)} s`,
        '',
        '| chart | rows fetched / row limit | PostgreSQL (plan + execution) | Superset /api/v1/chart/data |',
        '|---|---|---|---|',
        ...rows,
        '',
        `slowest chart through the API: ${slowest.toFixed(0)} ms`,
        '',
      ].join('\n'),
    );
  } finally {
    await stop();
    rmSync(home, { recursive: true, force: true });
    await db.close();
    if (!values.keep) await admin.exec(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    else log(`kept database ${dbName}`);
    await admin.close();
  }
}

await main();

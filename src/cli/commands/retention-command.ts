// `tidemark retention [--dry-run]`: the retention job (SPEC §6) run now, by hand — the same code
// the daily trigger runs once a day — printing per table the rows it deleted or would delete.
import { userInfo } from 'node:os';
import { loadConfigFromProcess } from '../../config.ts';
import { migrate } from '../../io/db/migrate.ts';
import { openDatabase } from '../../io/db/open-database.ts';
import { createLogger } from '../../io/log.ts';
import { runAuditedRetention } from '../../jobs/retention-job.ts';
import { DEAD_LETTER_RETENTION_DAYS, RETENTION_TARGETS, retentionCutoffs } from '../../jobs/retention.ts';
import { UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';

function cliUser(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export const RETENTION_COMMANDS: Record<string, Command> = {
  retention: {
    summary: 'Delete hot-mart rows, dead letters, late events and delivered alerts past their retention',
    usage: `tidemark retention [--dry-run]

Deletes the rows past their retention, in batches of short transactions:
  hot marts                    keyed (minute, snapshot_ts, detected_ts) over HOT_RETENTION_DAYS ago
  dead_letter_events           received more than ${DEAD_LETTER_RETENTION_DAYS} days ago
  late_events                  with event_ts more than ${DEAD_LETTER_RETENTION_DAYS} days ago
  anomaly_alerts               delivered, raised more than ${DEAD_LETTER_RETENTION_DAYS} days ago
Cold marts are kept, and so is every alert not delivered yet. Prints the rows deleted per
table; the run is audited in job_runs. The daily trigger (\`tidemark worker\` with
\`tidemark schedule\`) runs the same job once a day, after it has enqueued the daily flow.
  --dry-run   count the rows that would be deleted, delete nothing`,
    run: async (args) => {
      const { values, positionals } = parseFlags(args, { 'dry-run': { type: 'boolean' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const config = loadConfigFromProcess();
      const dryRun = values['dry-run'] === true;
      const hotRetentionDays = config.retention.hotDays;
      // One instant for the deletes and the cut-offs printed below.
      const now = Date.now();
      const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level, { component: 'retention' });
      const db = await openDatabase({ url: config.database.url ?? undefined, embeddedDir: config.database.embeddedDir });
      let counts: Record<string, number>;
      try {
        await migrate(db);
        counts = await runAuditedRetention({ db, clock: () => now, log }, {
          hotRetentionDays,
          dryRun,
          requestedBy: cliUser(),
          vacuum: db.dialect === 'pglite',
        });
      } finally {
        await db.close();
      }
      const cutoffs = retentionCutoffs(now, hotRetentionDays);
      const rows = RETENTION_TARGETS.map(({ table: name, kind }) => [name, String(counts[name] ?? 0), new Date(cutoffs[kind]).toISOString()]);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      process.stdout.write(
        `tidemark retention${dryRun ? ' (dry run: nothing deleted)' : ''}: hot data ${hotRetentionDays} days, dead letters, late events and delivered alerts ${DEAD_LETTER_RETENTION_DAYS} days\n` +
          table(['table', dryRun ? 'would delete' : 'deleted', 'older than'], rows) +
          `${dryRun ? 'would delete' : 'deleted'} ${total} rows\n`,
      );
      return 0;
    },
  },
};

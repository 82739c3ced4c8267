// Chooses the database adapter from configuration (SPEC §9): a PostgreSQL URL when DATABASE_URL
// is set, otherwise the embedded PGlite under embeddedDir (in memory when that is unset too).
// Each adapter is loaded only when chosen: a process runs on one of them, and the other's driver
// would only add to its memory.

import type { Database } from './database.ts';
import type { PgDatabaseOptions } from './pg-database.ts';

export interface OpenDatabaseOptions {
  /** DATABASE_URL; empty counts as unset, as it does in a shell `DATABASE_URL=`. */
  readonly url?: string | undefined;
  /** Where the embedded database lives, e.g. '.tidemark/db'; undefined means in memory. */
  readonly embeddedDir?: string | undefined;
  /** Pool settings, used only for a PostgreSQL URL. */
  readonly pg?: PgDatabaseOptions;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const url = options.url?.trim();
  if (url !== undefined && url !== '') return (await import('./pg-database.ts')).createPgDatabase(url, options.pg);
  return (await import('./pglite-database.ts')).createPgliteDatabase(options.embeddedDir);
}

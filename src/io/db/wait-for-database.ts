// Waiting out a database outage: the stream and the archive writer keep running while
// PostgreSQL restarts, and resume from what it committed once it answers again.
import type { Database } from './database.ts';
import { DatabaseOutageError, DatabaseUnavailableError } from './errors.ts';

/**
 * Probes the database with back-off (0.1 s doubling to 5 s) until it answers (true), the signal
 * aborts (false), or limitMs has passed since the outage was seen (DatabaseOutageError).
 */
export async function waitForDatabase(db: Database, limitMs: number, first: DatabaseUnavailableError, signal: AbortSignal | undefined): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  let last: Error = first;
  for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
    if (signal?.aborted === true) return false;
    if (Date.now() >= deadline) {
      throw new DatabaseOutageError(`PostgreSQL stayed unavailable for more than ${limitMs} ms (DB_OUTAGE_LIMIT): ${last.message}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now()))));
    try {
      await db.query('SELECT 1');
      return true;
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError)) throw error;
      last = error;
    }
  }
}

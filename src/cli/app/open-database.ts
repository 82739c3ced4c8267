// Opens and migrates the configured database at the edge of a command, turning "cannot connect"
// into one line that names the key to fix instead of a driver's stack trace.
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { isDatabaseUnavailableError } from '../../io/db/errors.ts';
import { migrate } from '../../io/db/migrate.ts';
import { openDatabase } from '../../io/db/open-database.ts';
import { StartupError } from '../command.ts';

export async function openConfiguredDatabase(config: TidemarkConfig, options: { migrate?: boolean } = {}): Promise<Database> {
  const key = config.database.url === null ? 'TIDEMARK_HOME' : 'DATABASE_URL';
  let db: Database;
  try {
    db = await openDatabase({ url: config.database.url ?? undefined, embeddedDir: config.database.embeddedDir, pg: { connectTimeoutMs: 5000 } });
  } catch (error) {
    throw new StartupError(`${key}: ${(error as Error).message}`, { cause: error });
  }
  try {
    // pg connects lazily: the first statement is where an unreachable server shows.
    if (options.migrate ?? true) await migrate(db);
    else await db.query('SELECT 1');
    return db;
  } catch (error) {
    await db.close().catch(() => undefined);
    if (isDatabaseUnavailableError(error)) throw new StartupError(`${key}: ${error.message}`);
    throw error;
  }
}

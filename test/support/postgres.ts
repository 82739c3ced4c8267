// A PostgreSQL server of the test's own (initdb in a temporary folder, a free port), for tests
// that stop and restart the database under a running process without disturbing the shared
// server other tests use. PostgreSQL refuses to run as root: as root its tools run as the
// postgres OS user. PG_BINDIR names the server's binaries (Debian's PostgreSQL 15 by default).
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/io/db/database.ts';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { freePort } from './net.ts';

const run = promisify(execFile);
const BINDIR = process.env['PG_BINDIR'] ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  /** Superuser URL over TCP (trust authentication on 127.0.0.1). */
  readonly url: string;
  /** Stops the server: 'fast' as an orderly restart does, 'immediate' as a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

async function asPostgres(command: string, args: readonly string[]): Promise<void> {
  const asRoot = userInfo().uid === 0;
  await run(asRoot ? 'runuser' : join(BINDIR, command), asRoot ? ['-u', 'postgres', '--', join(BINDIR, command), ...args] : [...args], { cwd: '/' });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  // Under /tmp rather than a private home, so that the postgres OS user can reach it.
  const dir = await mkdtemp('/tmp/tidemark-pg-');
  const data = join(dir, 'data');
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth=trust']);
  await writeFile(
    join(data, 'postgresql.auto.conf'),
    `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n`,
  );
  if (userInfo().uid === 0) await run('chown', ['postgres:postgres', join(data, 'postgresql.auto.conf')]);
  const start = (): Promise<void> => asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async dispose() {
      await stop('immediate').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A private server for the enclosing describe block: started before its tests, disposed after
 * them, with a pool on its `postgres` database for the test's own queries.
 */
export function usePrivatePostgres(): { readonly server: PrivatePostgres; readonly db: Database } {
  let server: PrivatePostgres | undefined;
  let db: Database | undefined;
  beforeAll(async () => {
    server = await startPrivatePostgres();
    db = createPgDatabase(server.url);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await server?.dispose();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the private PostgreSQL server is not started yet');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get db() {
      return started(db);
    },
  };
}

// The database port over PGlite, PostgreSQL compiled to WebAssembly and running in this process.
// It is the embedded default (`.tidemark/db`) and the fast database of the test suite, so it
// must behave like the pg adapter wherever tidemark can tell the difference:
//
// - the same value mapping (type-mapping.ts) and session settings (UTC, ISO dates);
// - parameters PGlite would accept but pg would send differently are refused here, so that
//   code tested only on PGlite cannot break on a real server (see STRICT_SERIALIZERS);
// - PGlite has a single connection, so every statement and transaction runs through one queue:
//   a statement issued outside a running transaction waits for it instead of landing inside it.
//   Calling db.query() (or db.transaction()) from inside a transaction callback would wait for
//   itself forever; it throws instead and says to use the tx handle.
// - A data directory can be opened by one process only: PGlite has no lock of its own and two
//   processes writing the same directory silently lose writes, so a lock file guards it.

import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, QueryResult, Queryable } from './database.ts';
import { OID, SESSION_SETUP_SQL, identity, parseTimestamptz } from './type-mapping.ts';

export interface PgliteDatabase extends Database {
  readonly dialect: 'pglite';
  /** A tarball of the whole data directory; pass it as `template` to clone this database fast. */
  dumpDataDir(): Promise<Blob>;
  /** Bytes of PostgreSQL's WebAssembly memory: it grows to the largest need so far and never shrinks. */
  wasmMemoryBytes(): number;
}

export interface PgliteDatabaseOptions {
  /** Start from a dump (dumpDataDir) instead of running initdb: ~0.3 s instead of ~3 s. */
  readonly template?: Blob;
}

const PARSERS = {
  [OID.int8]: identity,
  [OID.numeric]: identity,
  [OID.date]: identity,
  [OID.timestamp]: identity,
  [OID.timestamptz]: parseTimestamptz,
  [OID.interval]: identity,
};

/**
 * A data folder on disk is the embedded default, a long-running process: keep its WAL and
 * buffers small (PostgreSQL's defaults let the WAL alone grow to 1 GB, and shared buffers live in
 * the WebAssembly memory, which never shrinks). The stream checkpoints now and then. 16 MB of
 * buffers instead of 32 took ~30 MB off the demo's steady RSS, and the demo caught up and ran a
 * day's daily flow in the same time (A/B in BENCHMARKS.md, "Embedded demo"): the files live in
 * the OS page cache anyway.
 */
const EMBEDDED_START_PARAMS = ['-c', 'shared_buffers=16MB', '-c', 'max_wal_size=64MB', '-c', 'min_wal_size=32MB'];

function refuse(what: string, hint: string): never {
  throw new TypeError(`${what} cannot be sent portably (pg would send it differently): ${hint}`);
}

function instantParam(value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) refuse('an invalid Date', 'check the value');
    return value.toISOString();
  }
  if (typeof value === 'string') return value;
  return refuse(`a ${typeof value} for a timestamp parameter`, 'pass a Date or an ISO-8601 string');
}

function dateParam(value: unknown): string {
  if (typeof value === 'string') return value;
  // pg renders a Date in the process's local zone, PGlite in UTC: the day could differ.
  return refuse(`a ${value instanceof Date ? 'Date' : typeof value} for a date parameter`, "pass 'YYYY-MM-DD'");
}

function jsonParam(value: unknown): string {
  if (typeof value === 'string') return value;
  // pg turns a JS array into a PostgreSQL array literal, not JSON.
  if (Array.isArray(value)) return refuse('an array for a json parameter', 'pass JSON.stringify(array)');
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

const STRICT_SERIALIZERS = {
  [OID.timestamptz]: instantParam,
  [OID.timestamp]: instantParam,
  [OID.date]: dateParam,
  [OID.json]: jsonParam,
  [OID.jsonb]: jsonParam,
};

interface TxScope {
  readonly owner: object;
  open: boolean;
}

const transactionScope = new AsyncLocalStorage<TxScope>();

function toResult<Row>(result: { rows: unknown[]; rowCount?: number; affectedRows?: number }): QueryResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

// Data directories this process has open: "already open here" is decided by this set, never by
// the lock's pid, since a restarted container's process has the same pid (1) as the one that
// left the lock behind.
const openHere = new Set<string>();

/**
 * When a process started, in clock ticks since boot (Linux /proc/<pid>/stat, field 22), or
 * null where that cannot be read. A pid and its start time name one process: a pid reused by a
 * later process has another start time.
 */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Creates the lock file with our pid and start time; false when it already exists. */
function tryCreateLock(lockPath: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    const started = processStartTime(process.pid);
    writeSync(fd, started === null ? String(process.pid) : `${process.pid} ${started}`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The embedded database is open in another live process (a running demo, say). */
export class EmbeddedDatabaseBusyError extends Error {
  readonly code = 'EMBEDDED_DATABASE_BUSY';
}

function acquireDirLock(dir: string): () => void {
  const key = resolve(dir);
  const lockPath = `${key}.lock`;
  if (openHere.has(key)) throw new Error(`embedded database ${dir} is already open in this process`);
  mkdirSync(dirname(lockPath), { recursive: true });
  const release = (): void => {
    openHere.delete(key);
    try {
      unlinkSync(lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreateLock(lockPath)) {
      openHere.add(key);
      return release;
    }
    const [pidText, startedText] = readFileSync(lockPath, 'utf8').trim().split(/\s+/);
    const holder = Number.parseInt(pidText ?? '', 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder, startedText)) {
      throw new EmbeddedDatabaseBusyError(
        `embedded database ${dir} is open in process ${holder}; PGlite serves one process only ` +
          '(run every part in one process, or set DATABASE_URL to a PostgreSQL server)',
      );
    }
    // A crashed process left its lock behind (or an empty file from a crash mid-write), maybe
    // under the pid we have now (a restarted container): nothing of ours holds it.
    unlinkSync(lockPath);
  }
  throw new Error(`could not lock embedded database ${dir}: ${lockPath} keeps reappearing`);
}

/** Whether the process that wrote the lock still runs: its pid exists and, where known, with the same start time. */
function isAlive(pid: number, startedAt: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (startedAt === undefined) return true;
  const now = processStartTime(pid);
  return now === null || now === startedAt;
}

/** Opens (creating if needed) the database stored in dir, or an in-memory one when dir is undefined. */
export async function createPgliteDatabase(
  dir: string | undefined,
  options: PgliteDatabaseOptions = {},
): Promise<PgliteDatabase> {
  let releaseLock: (() => void) | undefined;
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    releaseLock = acquireDirLock(dir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dir === undefined ? {} : { dataDir: dir, startParams: [...PGlite.defaultStartParams, ...EMBEDDED_START_PARAMS] }),
      ...(options.template === undefined ? {} : { loadDataDir: options.template }),
      parsers: PARSERS,
      serializers: STRICT_SERIALIZERS,
    });
    await pglite.exec(SESSION_SETUP_SQL);
  } catch (error) {
    releaseLock?.();
    throw error;
  }

  const self = {};
  let tail: Promise<unknown> = Promise.resolve();
  let closing: Promise<void> | undefined;

  function enqueue<T>(operation: () => Promise<T>): Promise<T> {
    if (closing !== undefined) return Promise.reject(new Error('database is closed'));
    const scope = transactionScope.getStore();
    if (scope !== undefined && scope.owner === self && scope.open) {
      return Promise.reject(
        new Error('called the database from inside its own transaction: use the tx handle (PGlite has one connection)'),
      );
    }
    const run = tail.then(operation, operation);
    tail = run.catch(() => undefined);
    return run;
  }

  function wrapTx(tx: Transaction, scope: TxScope): Queryable {
    const assertOpen = (): void => {
      if (!scope.open) throw new Error('transaction already finished: use it only inside its callback');
    };
    return {
      async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
        assertOpen();
        return toResult<Row>(await tx.query(sql, params === undefined ? [] : [...params]));
      },
      async exec(sql: string) {
        assertOpen();
        await tx.exec(sql);
      },
    };
  }

  return {
    dialect: 'pglite',

    query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
      return enqueue(async () => toResult<Row>(await pglite.query(sql, params === undefined ? [] : [...params])));
    },

    exec(sql: string) {
      return enqueue(async () => {
        await pglite.exec(sql);
      });
    },

    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return enqueue(() =>
        pglite.transaction(async (tx) => {
          const scope: TxScope = { owner: self, open: true };
          try {
            return await transactionScope.run(scope, () => fn(wrapTx(tx, scope)));
          } finally {
            scope.open = false;
          }
        }),
      );
    },

    dumpDataDir() {
      return enqueue(() => pglite.dumpDataDir('none'));
    },

    wasmMemoryBytes() {
      return pglite.Module.HEAPU8.buffer.byteLength;
    },

    close() {
      if (closing === undefined) {
        const drained = tail;
        closing = drained.then(async () => {
          try {
            await pglite.close();
          } finally {
            releaseLock?.();
          }
        });
      }
      return closing;
    },
  };
}

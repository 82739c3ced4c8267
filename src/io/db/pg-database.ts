// The database port over a real PostgreSQL server through a `pg` connection pool.
//
// Behaviour that callers rely on and that PGlite reproduces (see type-mapping.ts):
// - BIGINT and NUMERIC come back as strings, timestamptz as Date, date as 'YYYY-MM-DD'.
// - Every connection is pinned to TimeZone UTC / DateStyle ISO, whatever the server's defaults,
//   so SQL like date_trunc('hour', ts) means the same thing on every machine.
// - query() always uses the extended protocol: exactly one statement, as on PGlite. Scripts go
//   through exec().
// - A refused, dropped or timed-out connection surfaces as DatabaseUnavailableError, whose
//   message names user@host:port/db but never the password.

import pg from 'pg';
import type { Database, QueryResult, Queryable } from './database.ts';
import { DatabaseUnavailableError } from './errors.ts';
import { copyFromStdin } from './pg-copy.ts';
import { OID, SESSION_SETUP_SQL, identity, parseTimestamptz } from './type-mapping.ts';

export interface PgDatabaseOptions {
  /** Pool size (default 10). */
  readonly max?: number;
  /** Shown in pg_stat_activity (default 'tidemark'). */
  readonly applicationName?: string;
  /** How long to wait for a new connection before giving up (default 10 s; pg's own is forever). */
  readonly connectTimeoutMs?: number;
  /**
   * Errors of idle pooled connections (server restart, network cut). The pool has already
   * dropped the connection and the next query reconnects, so the default just ignores them;
   * without a listener Node would crash the process on them.
   */
  readonly onIdleError?: (error: DatabaseUnavailableError) => void;
}

// Array types are parsed as text[] and then mapped element-wise: pg-types' own parsers for
// numeric[] (floats) and date[] (local-time Dates) would lose information.
// pg-types' TypeId enum does not list every array OID, hence the wider signature.
const builtinParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (text: string) => unknown;
const parseTextArray = builtinParser(1009, 'text');

function mapArray(value: unknown, parse: (text: string) => unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => mapArray(item, parse));
  return typeof value === 'string' ? parse(value) : value;
}

function textArrayOf(parse: (text: string) => unknown): (text: string) => unknown {
  return (text) => mapArray(parseTextArray(text), parse);
}

const TEXT_PARSERS = new Map<number, (text: string) => unknown>([
  [OID.int8, identity],
  [OID.int8Array, textArrayOf(identity)],
  [OID.numeric, identity],
  [OID.numericArray, textArrayOf(identity)],
  [OID.date, identity],
  [OID.dateArray, textArrayOf(identity)],
  [OID.timestamp, identity],
  [OID.timestampArray, textArrayOf(identity)],
  [OID.timestamptz, parseTimestamptz],
  [OID.timestamptzArray, textArrayOf(parseTimestamptz)],
  [OID.interval, identity],
  [OID.intervalArray, textArrayOf(identity)],
]);

// Per pool, not pg.types.setTypeParser: the global registry would change every other pg user
// in the process.
const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      const parser = TEXT_PARSERS.get(oid);
      if (parser !== undefined) return parser;
    }
    return builtinParser(oid, format ?? 'text');
  }) as typeof pg.types.getTypeParser,
};

const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EPIPE',
]);

// SQLSTATEs meaning "the server will not serve us right now".
const RETRIABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// SQLSTATEs meaning "this connection string cannot work until someone changes something".
const FATAL_SQLSTATES = new Set(['28000', '28P01', '3D000']);

// pg reports some connection failures only as messages without a code.
const CONNECTION_MESSAGE = /^Connection terminated|timeout exceeded when trying to connect|not queryable|connection timeout/i;

interface Target {
  /** user@host:port/database, safe to log. */
  readonly display: string;
  /** Secrets to scrub from driver messages, longest first. */
  readonly secrets: readonly string[];
}

function describeTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // URL's own error carries the input (password included) in a property: never rethrow it.
    throw new Error('the PostgreSQL connection string is not a valid postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`the PostgreSQL connection string must start with postgres://, not ${parsed.protocol}//`);
  }
  const secrets = [url];
  if (parsed.password !== '') secrets.push(parsed.password, decodeURIComponent(parsed.password));
  const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
  return {
    display: `${user}${parsed.host}${parsed.pathname}`,
    secrets: secrets.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length),
  };
}

function scrub(text: string, target: Target): string {
  let out = text;
  for (const secret of target.secrets) out = out.split(secret).join('***');
  return out;
}

/** Turns connection-level failures into DatabaseUnavailableError; other errors pass unchanged. */
function translateError(error: unknown, target: Target): unknown {
  if (error instanceof DatabaseUnavailableError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const driverCode = typeof code === 'string' ? code : undefined;
  let retriable: boolean;
  if (driverCode !== undefined && FATAL_SQLSTATES.has(driverCode)) retriable = false;
  else if (
    (driverCode !== undefined &&
      (NETWORK_ERRNOS.has(driverCode) || RETRIABLE_SQLSTATES.has(driverCode) || driverCode.startsWith('08'))) ||
    (driverCode === undefined && CONNECTION_MESSAGE.test(error.message))
  ) {
    retriable = true;
  } else {
    return error;
  }
  // The original stays attached as the cause, so it is scrubbed as well: loggers print causes.
  error.message = scrub(error.message, target);
  if (error.stack !== undefined) error.stack = scrub(error.stack, target);
  // AggregateError (several addresses tried) carries no message of its own.
  const detail =
    error.message !== '' ? error.message : error instanceof AggregateError ? String(error.errors[0]) : String(code);
  return new DatabaseUnavailableError(`PostgreSQL at ${target.display} is unavailable: ${detail}`, {
    retriable,
    ...(driverCode === undefined ? {} : { driverCode }),
    cause: error,
  });
}

function toResult<Row>(result: pg.QueryResult): QueryResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
}

/** The extended protocol refuses multi-statement strings, as PGlite does. */
function extendedQuery(sql: string, params: readonly unknown[] | undefined): pg.QueryConfig {
  // queryMode exists in pg ≥ 8.11 but is missing from @types/pg.
  return { text: sql, values: params === undefined ? [] : [...params], queryMode: 'extended' } as pg.QueryConfig;
}

async function setUpSession(client: pg.ClientBase): Promise<void> {
  await client.query(SESSION_SETUP_SQL);
}

export function createPgDatabase(url: string, options: PgDatabaseOptions = {}): Database {
  const target = describeTarget(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tidemark',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    types: PG_TYPES,
    // pg-pool awaits this hook before handing the connection out; @types/pg types it as void.
    onConnect: setUpSession as (client: pg.ClientBase) => void,
  });
  const onIdleError = options.onIdleError;
  pool.on('error', (error) => {
    const translated = translateError(error, target);
    if (onIdleError !== undefined && translated instanceof DatabaseUnavailableError) onIdleError(translated);
  });

  let closing: Promise<void> | undefined;
  const assertOpen = (): void => {
    if (closing !== undefined) throw new Error('database is closed');
  };

  async function connect(): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw translateError(error, target);
    }
  }

  return {
    dialect: 'pg',

    async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
      assertOpen();
      try {
        return toResult<Row>(await pool.query(extendedQuery(sql, params)));
      } catch (error) {
        throw translateError(error, target);
      }
    },

    async exec(sql: string) {
      assertOpen();
      try {
        await pool.query(sql);
      } catch (error) {
        throw translateError(error, target);
      }
    },

    async copyFrom(table, columns, chunks, format) {
      assertOpen();
      const client = await connect();
      try {
        const rows = await copyFromStdin(client, table, columns, chunks, format);
        client.release();
        return rows;
      } catch (error) {
        // Dropped rather than reasoned about: the COPY may have failed halfway through a chunk.
        client.release(error instanceof Error ? error : true);
        throw translateError(error, target);
      }
    },

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      assertOpen();
      const client = await connect();
      // A checked-out client has no 'error' listener in pg-pool: a server restart between two
      // statements of fn would otherwise crash the process. Remember the error instead; the
      // next statement fails on the dead connection anyway.
      let lost: Error | undefined;
      const onLost = (error: Error): void => {
        lost ??= error;
      };
      client.on('error', onLost);
      const finish = (failure?: unknown): void => {
        client.removeListener('error', onLost);
        const destroyWith = lost ?? failure;
        // release(error) destroys the connection instead of returning it to the pool.
        client.release(destroyWith === undefined ? undefined : destroyWith instanceof Error ? destroyWith : true);
      };

      try {
        await client.query('BEGIN');
      } catch (error) {
        finish(error);
        throw translateError(error, target);
      }

      let open = true;
      const run = async <R>(work: () => Promise<R>): Promise<R> => {
        if (!open) throw new Error('transaction already finished: use it only inside its callback');
        try {
          return await work();
        } catch (error) {
          throw translateError(error, target);
        }
      };
      const tx: Queryable = {
        query: <Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) =>
          run(async () => toResult<Row>(await client.query(extendedQuery(sql, params)))),
        exec: (sql: string) =>
          run(async () => {
            await client.query(sql);
          }),
        copyFrom: (table, columns, chunks, format) => run(() => copyFromStdin(client, table, columns, chunks, format)),
      };

      let value: T;
      try {
        value = await fn(tx);
      } catch (error) {
        open = false;
        try {
          await client.query('ROLLBACK');
          finish();
        } catch (rollbackError) {
          // The connection is in an unknown state: never hand it to the next caller.
          finish(rollbackError);
        }
        throw translateError(error, target);
      }

      open = false;
      let commit: pg.QueryResult;
      try {
        commit = await client.query('COMMIT');
      } catch (error) {
        // Whether the commit happened is unknown; callers make their writes idempotent.
        finish(error);
        throw translateError(error, target);
      }
      finish();
      // PostgreSQL answers COMMIT of a transaction in which a statement failed (and fn swallowed
      // the error) with ROLLBACK and no error: nothing was written, so the caller must know.
      if (commit.command === 'ROLLBACK') {
        throw new Error('transaction was rolled back by PostgreSQL: a statement inside it failed');
      }
      return value;
    },

    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}

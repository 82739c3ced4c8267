// What only the pg adapter has: a network between it and the data. Connection failures must
// become DatabaseUnavailableError without leaking the password; broken pooled connections must
// never be reused. The first block needs no server; the second runs against TEST_DATABASE_URL.

import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../src/io/db/errors.ts';
import { BinaryCopyBuffer } from '../../src/io/mart-store/copy-binary.ts';
import { createPgDatabase } from '../../src/io/db/pg-database.ts';
import { testDatabaseFactories, type TestDatabase } from '../support/databases.ts';

const PASSWORD = 'Sup3r-Secret_pw';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function expectUnavailable(error: unknown, retriable: boolean): DatabaseUnavailableError {
  expect(error).toBeInstanceOf(DatabaseUnavailableError);
  const e = error as DatabaseUnavailableError;
  expect(e.code).toBe('DB_UNAVAILABLE');
  expect(e.retriable).toBe(retriable);
  expect(e.message).not.toContain(PASSWORD);
  expect(e.stack ?? '').not.toContain(PASSWORD);
  const cause = e.cause as Error | undefined;
  expect(`${cause?.message ?? ''} ${cause?.stack ?? ''}`).not.toContain(PASSWORD);
  return e;
}

describe('pg adapter without a server', () => {
  it('turns a refused connection into a retriable DatabaseUnavailableError without the password', async () => {
    const port = await closedPort();
    const db = createPgDatabase(`postgres://tidemark:${PASSWORD}@127.0.0.1:${port}/nowhere`, { connectTimeoutMs: 2000 });
    try {
      for (const attempt of [
        db.query('SELECT 1'),
        db.exec('SELECT 1'),
        db.transaction(async (tx) => tx.query('SELECT 1')),
      ]) {
        const error = expectUnavailable(await rejection(attempt), true);
        expect(error.driverCode).toBe('ECONNREFUSED');
        expect(error.message).toContain(`tidemark@127.0.0.1:${port}/nowhere`);
      }
    } finally {
      await db.close();
    }
  });

  it('gives up on a server that accepts but never answers', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket));
    const port = await listen(server);
    const db = createPgDatabase(`postgres://tidemark:${PASSWORD}@127.0.0.1:${port}/silent`, { connectTimeoutMs: 300 });
    try {
      const started = Date.now();
      expectUnavailable(await rejection(db.query('SELECT 1')), true);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await db.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('scrubs the password from whatever the server says', async () => {
    // A fake server answering the startup message with a FATAL error that quotes the password.
    const field = (type: string, text: string): Buffer => Buffer.concat([Buffer.from(type), Buffer.from(`${text}\0`)]);
    const body = Buffer.concat([
      field('S', 'FATAL'),
      field('V', 'FATAL'),
      field('C', '08006'),
      field('M', `connection rejected for password ${PASSWORD}`),
      Buffer.from([0]),
    ]);
    const header = Buffer.alloc(5);
    header.write('E', 0);
    header.writeInt32BE(body.length + 4, 1);
    const server = createServer((socket) => {
      socket.once('data', () => socket.end(Buffer.concat([header, body])));
    });
    const port = await listen(server);
    const db = createPgDatabase(`postgres://tidemark:${PASSWORD}@127.0.0.1:${port}/db`, { connectTimeoutMs: 2000 });
    try {
      const error = expectUnavailable(await rejection(db.query('SELECT 1')), true);
      expect(error.driverCode).toBe('08006');
      expect(error.message).toContain('connection rejected for password ***');
    } finally {
      await db.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses a malformed URL at once without echoing it', () => {
    for (const url of [`postgres://u:${PASSWORD}@[::1:5432/db`, `mysql://u:${PASSWORD}@host/db`]) {
      let caught: unknown;
      try {
        createPgDatabase(url);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(Error);
      expect(JSON.stringify(caught) + String(caught) + ((caught as Error).stack ?? '')).not.toContain(PASSWORD);
    }
  });
});

const pgFactory = testDatabaseFactories().find((f) => f.kind === 'pg');

describe.skipIf(pgFactory === undefined)('pg adapter against a server', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    if (pgFactory === undefined) return;
    t = await pgFactory.create({ migrate: false });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  function urlWith(change: (url: URL) => void): string {
    const url = new URL(t.url ?? '');
    change(url);
    return url.toString();
  }

  it('reports a wrong password as unavailable but not retriable, without the password', async () => {
    const db = createPgDatabase(urlWith((u) => (u.password = PASSWORD)));
    try {
      const error = expectUnavailable(await rejection(db.query('SELECT 1')), false);
      expect(error.driverCode).toBe('28P01');
    } finally {
      await db.close();
    }
  });

  it('reports a missing database as not retriable', async () => {
    const db = createPgDatabase(urlWith((u) => (u.pathname = '/tidemark_no_such_database')));
    try {
      expect(expectUnavailable(await rejection(db.query('SELECT 1')), false).driverCode).toBe('3D000');
    } finally {
      await db.close();
    }
  });

  it('pins TimeZone to UTC even when the database defaults to another zone, and names itself', async () => {
    const name = new URL(t.url ?? '').pathname.slice(1);
    await t.db.exec(`ALTER DATABASE "${name}" SET TimeZone = 'Asia/Seoul'`);
    const db = createPgDatabase(t.url ?? '', { applicationName: 'tidemark-conformance' });
    try {
      const { rows } = await db.query<{ tz: string; app: string }>(
        "SELECT current_setting('TimeZone') AS tz, current_setting('application_name') AS app",
      );
      expect(rows).toEqual([{ tz: 'UTC', app: 'tidemark-conformance' }]);
    } finally {
      await db.close();
    }
  });

  it('destroys a connection whose ROLLBACK failed, and keeps serving', async () => {
    const db = createPgDatabase(t.url ?? '', { max: 2 });
    try {
      const boom = new Error('boom');
      let killedPid = 0;
      const outcome = await rejection(
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          killedPid = rows[0]?.pid ?? 0;
          // Another pooled connection kills this one: ROLLBACK will fail.
          await db.query('SELECT pg_terminate_backend($1)', [killedPid]);
          throw boom;
        }),
      );
      expect(outcome).toBe(boom);
      for (let i = 0; i < 4; i++) {
        const pid = await db.transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          return rows[0]?.pid;
        });
        expect(pid).not.toBe(killedPid);
      }
    } finally {
      await db.close();
    }
  });

  it('surfaces a connection killed mid-transaction as DatabaseUnavailableError', async () => {
    const db = createPgDatabase(t.url ?? '', { max: 2 });
    try {
      const error = await rejection(
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await db.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
          await tx.query('SELECT 1');
        }),
      );
      expectUnavailable(error, true);
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('survives idle pooled connections being killed', async () => {
    const idleErrors: DatabaseUnavailableError[] = [];
    const db = createPgDatabase(t.url ?? '', { max: 1, onIdleError: (e) => idleErrors.push(e) });
    try {
      const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await t.db.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      for (let i = 0; i < 50 && idleErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(idleErrors.length).toBe(1);
      expect(idleErrors[0]?.retriable).toBe(true);
      const again = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(again.rows[0]?.pid).not.toBe(rows[0]?.pid);
    } finally {
      await db.close();
    }
  });

  it('loads COPY in the binary format: text, dates, int4 and millisecond timestamps exactly', async () => {
    const db = createPgDatabase(t.url ?? '', { max: 1 });
    try {
      await db.exec('CREATE TABLE copy_binary_probe (id varchar(64) PRIMARY KEY, d date NOT NULL, n int NOT NULL, at timestamptz NOT NULL)');
      const cases = [
        { id: 's-1', d: '2026-05-12', n: 0, at: Date.UTC(2026, 4, 12, 1, 2, 3, 4) },
        { id: 'ünï ✓ 심장', d: '2000-01-01', n: -2_147_483_648, at: Date.UTC(2000, 0, 1) },
        { id: 'tab\there', d: '1999-12-31', n: 2_147_483_647, at: Date.UTC(1999, 11, 31, 23, 59, 59, 999) },
        { id: 'epoch', d: '1970-01-01', n: 7, at: 0 },
        { id: 'far', d: '2262-04-11', n: 1, at: Date.UTC(2262, 3, 11, 23, 47, 16, 854) },
      ];
      function* chunks(): Generator<Uint8Array> {
        const out = new BinaryCopyBuffer(16); // grows as rows are written
        out.header();
        for (const c of cases) {
          out.row(4);
          out.text(c.id);
          out.date(c.d);
          out.int4(c.n);
          out.timestamptz(c.at);
          yield out.take();
        }
        out.trailer();
        yield out.take();
      }
      expect(await db.copyFrom?.('copy_binary_probe', ['id', 'd', 'n', 'at'], chunks(), 'binary')).toBe(cases.length);
      const stored = await db.query<{ id: string; d: string; n: number; at: Date }>(
        `SELECT id, to_char(d, 'YYYY-MM-DD') AS d, n, at FROM copy_binary_probe`,
      );
      const byId = new Map(stored.rows.map((r) => [r.id, { id: r.id, d: r.d, n: r.n, at: r.at.getTime() }]));
      expect(cases.map((c) => byId.get(c.id))).toEqual(cases);
      expect(() => new BinaryCopyBuffer().int4(2 ** 31)).toThrow(RangeError);
      expect(() => new BinaryCopyBuffer().timestamptz(1.5)).toThrow(RangeError);
      expect(() => new BinaryCopyBuffer().date('2026-13-01')).toThrow(RangeError);
    } finally {
      await db.exec('DROP TABLE IF EXISTS copy_binary_probe');
      await db.close();
    }
  });

  it('streams COPY FROM STDIN, fails it on a bad row or source without losing the connection', async () => {
    const db = createPgDatabase(t.url ?? '', { max: 1 });
    const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
    try {
      await db.exec('CREATE TABLE copy_probe (id text PRIMARY KEY, n int NOT NULL, at timestamptz)');
      async function* rows(): AsyncGenerator<Uint8Array> {
        for (let chunk = 0; chunk < 50; chunk++) {
          let s = '';
          for (let i = 0; i < 2000; i++) s += `k-${chunk}-${i}\t${i}\t2026-05-12 01:02:03.004+00\n`;
          yield text(s);
        }
        yield text('tab\\there\t1\t\\N\n');
      }
      expect(await db.copyFrom?.('copy_probe', ['id', 'n', 'at'], rows())).toBe(100_001);
      // 'tab\\there' in COPY text is the id with a real tab in it.
      const stored = await db.query<{ id: string; at: Date | null }>('SELECT id, at FROM copy_probe WHERE id = ANY($1::text[]) ORDER BY id', [['tab\there', 'k-7-9']]);
      expect(stored.rows.map((r) => [r.id, r.at?.toISOString() ?? null])).toEqual([
        ['k-7-9', '2026-05-12T01:02:03.004Z'],
        ['tab\there', null],
      ]);
      // A duplicate key fails the COPY inside a transaction, which then rolls back as a whole.
      const duplicate = db.transaction(async (tx) => {
        await tx.query(`DELETE FROM copy_probe WHERE id LIKE 'k-1-%'`);
        await tx.copyFrom?.('copy_probe', ['id', 'n'], [text('new\t1\n'), text('k-2-5\t1\n')]);
      });
      await expect(duplicate).rejects.toThrow(/duplicate key/);
      function* failing(): Generator<Uint8Array> {
        yield text('x\t1\n');
        throw new Error('source broke');
      }
      await expect(db.copyFrom?.('copy_probe', ['id', 'n'], failing())).rejects.toThrow(/source broke/);
      await expect(db.copyFrom?.('copy_probe; DROP TABLE x', ['id'], [])).rejects.toThrow(/identifier/);
      expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM copy_probe')).rows[0]?.n).toBe('100001');
    } finally {
      await db.exec('DROP TABLE IF EXISTS copy_probe');
      await db.close();
    }
  });

  it('refuses work after close', async () => {
    const db = createPgDatabase(t.url ?? '');
    await db.close();
    await db.close();
    await expect(db.query('SELECT 1')).rejects.toThrow(/closed/);
  });
});

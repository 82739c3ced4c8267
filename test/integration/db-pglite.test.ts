// What only the PGlite adapter has: one connection shared by the whole process, a data directory
// on disk, and stricter parameter handling than PGlite itself (to stay portable to pg).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/io/db/migrate.ts';
import { openDatabase } from '../../src/io/db/open-database.ts';
import { createPgliteDatabase } from '../../src/io/db/pglite-database.ts';
import { testDatabaseFactories, type TestDatabase } from '../support/databases.ts';

const pglite = testDatabaseFactories().find((f) => f.kind === 'pglite');

/** This process's start time as /proc/<pid>/stat gives it (field 22). */
function ownStartTime(): string {
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('pglite adapter in memory', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    if (pglite === undefined) throw new Error('no pglite factory');
    t = await pglite.create({ migrate: false });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('throws instead of deadlocking when the database is used inside its own transaction', async () => {
    const db = t.db;
    await expect(db.transaction(async () => db.query('SELECT 1'))).rejects.toThrow(/use the tx handle/);
    await expect(db.transaction(async () => db.transaction(async () => 1))).rejects.toThrow(/use the tx handle/);
    // Work started inside but run after the transaction ended is fine.
    let later: Promise<unknown> | undefined;
    await db.transaction(async () => {
      later = new Promise((resolve) => setTimeout(resolve, 5)).then(() => db.query('SELECT 1 AS one'));
    });
    await expect(later).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it('refuses a Date for a DATE parameter (pg would render it in the local zone)', async () => {
    await expect(t.db.query('SELECT $1::date AS d', [new Date('2024-03-01T23:30:00Z')])).rejects.toThrow(
      /YYYY-MM-DD/,
    );
    expect((await t.db.query('SELECT $1::date AS d', ['2024-03-01'])).rows).toEqual([{ d: '2024-03-01' }]);
  });

  it('keeps statements queued behind a transaction out of it', async () => {
    await t.db.exec('CREATE TABLE queue_probe (a INT)');
    const order: string[] = [];
    const tx = t.db.transaction(async (q) => {
      await q.query('INSERT INTO queue_probe VALUES (1)');
      await new Promise((resolve) => setTimeout(resolve, 30));
      order.push('tx');
      throw new Error('undo');
    });
    const outside = t.db.query('INSERT INTO queue_probe VALUES (2)').then(() => order.push('outside'));
    await expect(tx).rejects.toThrow('undo');
    await outside;
    expect(order).toEqual(['tx', 'outside']);
    const { rows } = await t.db.query<{ a: number }>('SELECT a FROM queue_probe');
    expect(rows).toEqual([{ a: 2 }]);
  });
});

describe('pglite adapter on disk', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tidemark-pglite-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('persists across reopen, creating missing parent folders', async () => {
    const dir = join(root, 'nested', 'db');
    const first = await openDatabase({ url: '', embeddedDir: dir });
    expect(first.dialect).toBe('pglite');
    await migrate(first);
    await first.query("INSERT INTO mart_daily_traffic (event_date, total_events, unique_sessions, unique_documents, peak_hour) VALUES ('2024-03-01', 3, 1, 1, 9)");
    await first.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);

    const second = await createPgliteDatabase(dir);
    try {
      expect(await migrate(second)).toEqual({ applied: [] });
      const { rows } = await second.query('SELECT event_date, total_events FROM mart_daily_traffic');
      expect(rows).toEqual([{ event_date: '2024-03-01', total_events: 3 }]);
    } finally {
      await second.close();
    }
  });

  it('lets one process at a time open a data directory', async () => {
    const dir = join(root, 'locked');
    const db = await createPgliteDatabase(dir);
    try {
      await expect(createPgliteDatabase(dir)).rejects.toThrow(/already open in this process/);

      // Another live process holding the lock is refused too.
      await db.close();
      const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
      try {
        await writeFile(`${dir}.lock`, String(holder.pid));
        await expect(createPgliteDatabase(dir)).rejects.toThrow(new RegExp(`open in process ${holder.pid}`));
      } finally {
        holder.kill();
      }
    } finally {
      await db.close();
    }
  });

  it('takes over the lock a crashed process left behind', async () => {
    const dir = join(root, 'stale');
    await (await createPgliteDatabase(dir)).close();
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => dead.on('exit', resolve));
    await writeFile(`${dir}.lock`, String(dead.pid));
    const db = await createPgliteDatabase(dir);
    await db.close();
  });

  it('takes over a lock left under its own pid (a restarted container is pid 1 again)', async () => {
    const dir = join(root, 'same-pid');
    await (await createPgliteDatabase(dir)).close();
    for (const content of [String(process.pid), `${process.pid} ${ownStartTime()}`]) {
      await writeFile(`${dir}.lock`, content);
      const db = await createPgliteDatabase(dir);
      expect(readFileSync(`${dir}.lock`, 'utf8')).toBe(`${process.pid} ${ownStartTime()}`);
      await db.close();
      expect(existsSync(`${dir}.lock`)).toBe(false);
    }
  });

  it('takes over a lock whose pid now belongs to a process that started later', async () => {
    const dir = join(root, 'reused-pid');
    await (await createPgliteDatabase(dir)).close();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      // The lock names the live process's pid with another start time: the pid was reused.
      await writeFile(`${dir}.lock`, `${other.pid} 1`);
      const db = await createPgliteDatabase(dir);
      await db.close();
    } finally {
      other.kill();
    }
  });
});

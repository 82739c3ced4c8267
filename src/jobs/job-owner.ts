// Owners of job runs (db/migrations/030_job_owners.sql). Every process that runs steps beats a
// heartbeat in job_owners; its step attempts, and the in-process runs only it can finish, carry
// its id in job_runs.owner. At start-up a process marks `abandoned` the running rows whose owner
// has stopped beating (killed, or its machine gone), so nothing stays `running` for ever. Every
// day step is idempotent (it replaces its day), so an abandoned run can be run again under its id.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queryable } from '../io/db/database.ts';

/** How often an owner beats. */
export const OWNER_HEARTBEAT_MS = 5_000;
/** An owner silent this long is gone: six missed beats, so a long GC pause or a slow database is not mistaken for a death. */
export const OWNER_STALE_MS = 30_000;

export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Registers (or refreshes) an owner's heartbeat. */
export async function beatOwner(db: Queryable, owner: string): Promise<void> {
  await db.query(
    `INSERT INTO job_owners (owner, host, pid) VALUES ($1, $2, $3)
     ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now()`,
    [owner, hostname(), process.pid],
  );
}

/** A clean stop: rows it still holds are abandoned by the next start-up at once. */
export async function retireOwner(db: Queryable, owner: string): Promise<void> {
  await db.query(`DELETE FROM job_owners WHERE owner = $1`, [owner]);
}

export interface AbandonedRows {
  readonly steps: number;
  readonly runs: readonly string[];
}

/**
 * Marks `abandoned` every running row owned by another owner whose heartbeat is older than
 * `staleMs` (or gone), and forgets such owners. Rows without an owner (BullMQ runs, which any
 * worker finishes; rows older than the owner column) are left alone.
 */
export async function markAbandonedRuns(db: Queryable, self: string, staleMs: number): Promise<AbandonedRows> {
  const { rows } = await db.query<{ run_id: string | null; step: string | null }>(
    `UPDATE job_runs r
        SET outcome = 'abandoned', finished_at = greatest(now(), r.started_at),
            error = coalesce(r.error, 'its owner ' || r.owner || ' stopped without finishing it'),
            detail = coalesce(r.detail, '{}'::jsonb) || jsonb_build_object('abandoned_at', now(), 'resumable', true)
      WHERE r.outcome = 'running' AND r.owner IS NOT NULL AND r.owner <> $1
        AND NOT EXISTS (SELECT 1 FROM job_owners o WHERE o.owner = r.owner AND o.heartbeat_at > now() - $2 * interval '1 millisecond')
      RETURNING r.run_id, r.step`,
    [self, staleMs],
  );
  await db.query(`DELETE FROM job_owners WHERE owner <> $1 AND heartbeat_at <= now() - $2 * interval '1 millisecond'`, [self, staleMs]);
  return {
    steps: rows.filter((r) => r.step !== null).length,
    runs: rows.filter((r) => r.step === null && r.run_id !== null).map((r) => r.run_id as string),
  };
}

/**
 * A process stopping mid-run (SIGTERM on an in-process backfill): its own running rows become
 * abandoned at once, not after OWNER_STALE_MS. Returns the run ids.
 */
export async function abandonOwnRuns(db: Queryable, owner: string, why: string): Promise<string[]> {
  const { rows } = await db.query<{ run_id: string | null; step: string | null }>(
    `UPDATE job_runs SET outcome = 'abandoned', finished_at = greatest(now(), started_at), error = coalesce(error, $2),
            detail = coalesce(detail, '{}'::jsonb) || jsonb_build_object('abandoned_at', now(), 'resumable', true)
      WHERE outcome = 'running' AND owner = $1
      RETURNING run_id, step`,
    [owner, why],
  );
  return rows.filter((r) => r.step === null && r.run_id !== null).map((r) => r.run_id as string);
}

/** In-process runs of this owner someone asked to cancel (`backfill --cancel` from another terminal). */
export async function cancelRequestsFor(db: Queryable, owner: string): Promise<string[]> {
  const { rows } = await db.query<{ run_id: string }>(
    `SELECT run_id FROM job_runs WHERE step IS NULL AND outcome = 'running' AND owner = $1 AND detail ? 'cancel_requested_by'`,
    [owner],
  );
  return rows.map((r) => r.run_id);
}

// A lake that rides out an outage of its store: the archive writer's uploads and deletes are
// retried with back-off while the S3 endpoint restarts or answers 5xx, instead of failing the
// writer on the first refused connection. Nothing is committed before its upload succeeded, so
// waiting loses nothing; past the limit the writer stops with LakeOutageError (exit 75), which a
// supervisor restarts, rather than retrying forever in silence.
import type { Logger } from '../log.ts';
import type { Lake } from './lake.ts';
import { sleep } from '../sleep.ts';

/** The lake stayed unreachable longer than LAKE_OUTAGE_LIMIT, or the process was stopped while waiting for it. */
export class LakeOutageError extends Error {
  readonly code = 'LAKE_OUTAGE';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LakeOutageError';
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'ThrottlingException',
]);

/**
 * True for failures that clear up on their own: no answer at all (connection refused or reset,
 * a timeout) or a server-side answer (5xx, 429, 408). A refused signature, a missing bucket or a
 * full local disk is not, and fails at once.
 */
export function isTransientLakeError(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429 || status === 408;
  for (const code of [e?.code, e?.name]) if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return typeof e?.message === 'string' && /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up/.test(e.message);
}

export interface PatientLakeOptions {
  /** How long the store may stay unreachable, counted from the first failure of an outage. */
  readonly limitMs: number;
  readonly log: Logger;
  /** Aborting stops the waiting: the pending call fails with LakeOutageError at once. */
  readonly signal?: AbortSignal;
}

export function patientLake(lake: Lake, options: PatientLakeOptions): Lake {
  const { limitMs, log, signal } = options;
  // Start of the current outage, shared by every call: a long outage is not renewed per object.
  let outageSince: number | null = null;

  const patiently = async <T>(operation: string, key: string, call: () => Promise<T>): Promise<T> => {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        const result = await call();
        if (outageSince !== null) {
          log.info('lake available again', { lake: lake.url, outage_ms: Date.now() - outageSince });
          outageSince = null;
        }
        return result;
      } catch (error) {
        if (!isTransientLakeError(error)) throw error;
        const message = (error as Error).message ?? String(error);
        if (outageSince === null) {
          outageSince = Date.now();
          log.warn('lake unavailable: retrying with back-off', { lake: lake.url, operation, key, error: message, limit_ms: limitMs });
        }
        if (signal?.aborted === true) {
          throw new LakeOutageError(`stopped while the lake ${lake.url} was unavailable (${operation} ${key}): ${message}`, { cause: error });
        }
        const left = outageSince + limitMs - Date.now();
        if (left <= 0) {
          throw new LakeOutageError(`the lake ${lake.url} stayed unavailable for more than ${limitMs} ms (LAKE_OUTAGE_LIMIT): ${operation} ${key}: ${message}`, { cause: error });
        }
        await sleep(Math.min(delay, left), signal);
      }
    }
  };

  return {
    url: lake.url,
    put: (key, body) => patiently('put', key, () => lake.put(key, body)),
    get: (key) => patiently('get', key, () => lake.get(key)),
    list: (prefix) => patiently('list', prefix, () => lake.list(prefix)),
    delete: (key) => patiently('delete', key, () => lake.delete(key)),
    close: () => lake.close(),
  };
}


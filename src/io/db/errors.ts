// Errors of the database adapters that callers are expected to branch on. A lost or refused
// connection is not a bug of the caller: the stream and the jobs retry it with back-off, so it
// gets its own type with a stable code instead of whatever shape the driver happened to throw.

export interface DatabaseUnavailableOptions {
  /** False when retrying cannot help (wrong password, database missing): an operator must act. */
  readonly retriable?: boolean;
  /** The driver's error code (errno like 'ECONNREFUSED', or a SQLSTATE like '57P01'). */
  readonly driverCode?: string;
  readonly cause?: unknown;
}

export class DatabaseUnavailableError extends Error {
  readonly code = 'DB_UNAVAILABLE';
  readonly retriable: boolean;
  readonly driverCode: string | undefined;

  constructor(message: string, options: DatabaseUnavailableOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DatabaseUnavailableError';
    this.retriable = options.retriable ?? true;
    this.driverCode = options.driverCode;
  }
}

export function isDatabaseUnavailableError(error: unknown): error is DatabaseUnavailableError {
  return error instanceof DatabaseUnavailableError;
}

/** Raised by migrate() when the database and the migration files disagree. Never retriable. */
export class MigrationError extends Error {
  readonly code = 'DB_MIGRATION';

  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/**
 * The database stayed unreachable for longer than the process may wait (DB_OUTAGE_LIMIT): the
 * stream stops cleanly (nothing partial was committed: every batch is one transaction) so that a
 * supervisor can restart it or page someone, instead of retrying forever in silence.
 */
export class DatabaseOutageError extends Error {
  readonly code = 'DB_OUTAGE';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseOutageError';
  }
}

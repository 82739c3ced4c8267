// COPY … FROM STDIN over node-postgres without a helper package: pg accepts any "submittable"
// in client.query() and hands it the protocol messages of its statement, and its connection can
// send CopyData / CopyDone / CopyFail. So a COPY is: send the statement as a simple query, and
// when the server answers CopyInResponse, stream the chunks (waiting for the socket to drain
// when it is full, so memory holds one chunk or so), then CopyDone; the server answers
// CommandComplete ("COPY n") and ReadyForQuery. A bulk load this way skips both the bind
// message of INSERT … unnest(…) arrays (pg renders every array as one big string first) and
// the server's array parsing.
import type pg from 'pg';
import type { CopyFormat } from './database.ts';

/** The parts of pg's connection a COPY needs (not in @types/pg). */
interface CopyConnection {
  readonly stream: NodeJS.WritableStream & { once(event: 'drain', listener: () => void): unknown };
  query(text: string): void;
  sendCopyFromChunk(chunk: Uint8Array): boolean | undefined;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/** Identifiers spliced into the COPY statement: plain lowercase names, as the schema's constants are. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function copyStatement(table: string, columns: readonly string[], format: CopyFormat = 'text'): string {
  for (const name of [table, ...columns]) {
    if (!IDENTIFIER.test(name)) throw new Error(`COPY: ${JSON.stringify(name)} is not a plain identifier`);
  }
  return `COPY ${table} (${columns.join(', ')}) FROM STDIN${format === 'binary' ? ' WITH (FORMAT binary)' : ''}`;
}

/**
 * One COPY FROM STDIN (text format) as a pg submittable. pg calls submit() when the connection
 * is free, then the handle* methods as the server answers; `done` settles with the row count.
 */
class CopyFromStdin {
  readonly done: Promise<number>;
  private resolve!: (rows: number) => void;
  private reject!: (error: Error) => void;
  private rows = 0;
  private error: Error | undefined;
  /** Wakes the pump when it waits for 'drain' and the COPY has failed meanwhile. */
  private wake: (() => void) | undefined;

  private readonly sql: string;
  private readonly chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

  constructor(sql: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.sql = sql;
    this.chunks = chunks;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: CopyConnection): void {
    connection.query(this.sql);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    void this.pump(connection);
  }

  private async pump(connection: CopyConnection): Promise<void> {
    try {
      for await (const chunk of this.chunks) {
        if (this.error !== undefined) return;
        if (chunk.byteLength === 0) continue;
        if (connection.sendCopyFromChunk(chunk) === false) {
          await new Promise<void>((wake) => {
            this.wake = wake;
            connection.stream.once('drain', wake);
          });
          this.wake = undefined;
        }
      }
      if (this.error === undefined) connection.endCopyFrom();
    } catch (error) {
      // The source failed: CopyFail makes the server abort the COPY with an error, which then
      // arrives through handleError; the source's own error is the one reported.
      this.error = error instanceof Error ? error : new Error(String(error));
      connection.sendCopyFail(`source failed: ${this.error.message}`);
    }
  }

  /** The command tag is 'COPY n'. */
  handleCommandComplete(message: { text?: string }): void {
    const count = /^COPY (\d+)$/.exec(message.text ?? '');
    this.rows = count === null ? 0 : Number(count[1]);
  }

  handleReadyForQuery(): void {
    if (this.error === undefined) this.resolve(this.rows);
    else this.reject(this.error);
  }

  /** pg detaches the submittable before calling this: no ReadyForQuery will reach it. */
  handleError(error: Error): void {
    this.error ??= error;
    this.wake?.();
    this.reject(this.error);
  }

  // A COPY FROM answers none of these; pg calls whichever the server sends.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/**
 * Runs `COPY table (columns) FROM STDIN` on the client, feeding it the chunks (text format:
 * rows of tab-separated fields, each ending in a newline; or the binary format's bytes).
 * Returns the rows copied.
 */
export async function copyFromStdin(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  format: CopyFormat = 'text',
): Promise<number> {
  const copy = new CopyFromStdin(copyStatement(table, columns, format), chunks);
  client.query(copy as unknown as pg.Submittable);
  return copy.done;
}

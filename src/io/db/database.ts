// The database port: the small surface tidemark needs from PostgreSQL, implemented over `pg`
// (a real server) and over PGlite (embedded). Parameters are always bound, never spliced.

export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number;
}

export interface Queryable {
  /** One statement, parameters bound ($1 …); a string holding several statements is refused. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** A script of one or more statements without parameters (DDL, migrations); no rows come back. */
  exec(sql: string): Promise<void>;
  /**
   * Bulk load: COPY table (columns) FROM STDIN, fed chunk by chunk, in PostgreSQL's text format
   * (rows of tab-separated fields, each ending in a newline; \N for null; backslash, tab,
   * newline and carriage return escaped) or its binary format (see copy-binary.ts; the chunks
   * then carry the header and trailer too). Returns the rows copied. Only the pg adapter has
   * it: callers fall back to INSERT where it is missing (PGlite). Table and column names must
   * be plain lowercase identifiers (from constants, never input).
   */
  copyFrom?(
    table: string,
    columns: readonly string[],
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    format?: CopyFormat,
  ): Promise<number>;
}

export type CopyFormat = 'text' | 'binary';

export interface Database extends Queryable {
  readonly dialect: 'pg' | 'pglite';
  /**
   * Runs fn in one transaction (BEGIN … COMMIT, ROLLBACK on throw; fn's error is rethrown).
   * Inside fn use only tx: on PGlite (one connection) calling the database itself throws.
   * Rejects when COMMIT fails, including a commit PostgreSQL turned into ROLLBACK because a
   * statement in fn failed and fn swallowed the error.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

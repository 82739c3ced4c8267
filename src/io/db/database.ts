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
}

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

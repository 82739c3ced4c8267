// A mart's rows across the SQL boundary, from its registry definition (src/marts/mart-registry.ts):
// the SELECT list that reads them back as the row types of src/marts/types.ts, the
// INSERT … unnest that writes them, and the binary COPY encoding of the bulk marts. Table and
// column names come from a registry that defineRegistry checked (plain identifiers); values are
// always bound parameters.
import type { Queryable } from '../db/database.ts';
import { epochMs, fromSqlEpoch, toSqlTimestamp } from '../hot-sink/timestamps.ts';
import { martColumns, writtenColumns } from '../../marts/mart-registry.ts';
import type { MartColumn, MartDefinition } from '../../marts/mart-registry.ts';
import { BinaryCopyBuffer } from './copy-binary.ts';

/** Rows per INSERT statement: large enough to be bulk, small enough to keep one bind message modest. */
export const INSERT_CHUNK = 20_000;

type SqlRow = Readonly<Record<string, unknown>>;

/**
 * The SELECT list of a mart's columns, each under its own name: instants as float8 epoch ms, and
 * BIGINT, NUMERIC and DATE as text, so they come back exact and independent of the driver's
 * type parsers and the session time zone.
 */
export function selectList(mart: MartDefinition): string {
  return martColumns(mart)
    .map(({ column, type }) => {
      if (type === 'timestamptz') return `${epochMs(column)} AS ${column}`;
      if (type === 'bigint' || type === 'numeric' || type === 'date') return `${column}::text AS ${column}`;
      return column;
    })
    .join(', ');
}

/**
 * ORDER BY the primary key, text compared bytewise ("C") as the evaluators sort it. Qualified by
 * the table: a bare name would sort by selectList's output column of that name, which holds
 * BIGINT as text (so 777 after 1528).
 */
export function keyOrder(mart: MartDefinition): string {
  return mart.key.map(({ column, type }) => `${mart.table}.${column}${type === 'text' ? ' COLLATE "C"' : ''}`).join(', ');
}

/** The mart's rows matching `where` (bound to `params`), as row objects, sorted by key. */
export async function readMartRows(db: Queryable, mart: MartDefinition, where: string, params: readonly unknown[]): Promise<object[]> {
  const result = await db.query<SqlRow>(`SELECT ${selectList(mart)} FROM ${mart.table} WHERE ${where} ORDER BY ${keyOrder(mart)}`, params);
  const columns = martColumns(mart);
  return result.rows.map((sql) => {
    const row: Record<string, unknown> = {};
    for (const { column, field, type } of columns) row[field] = type === 'timestamptz' ? fromSqlEpoch(sql[column]) : sql[column];
    return row;
  });
}

function paramOf(column: MartColumn, row: object): unknown {
  const value = (row as SqlRow)[column.field];
  return column.type === 'timestamptz' && typeof value === 'number' ? toSqlTimestamp(value) : value;
}

/** Extra columns an insert sets the same for every row: a name and its SQL expression. */
export type FixedColumns = readonly (readonly [column: string, expression: string])[];

/**
 * INSERT INTO table (columns…, fixed…) SELECT columns…, fixed… FROM unnest($1::type[], …) in
 * chunks of INSERT_CHUNK rows; the unnest aliases are the column names, so the statement reads
 * like the table. A fixed expression may use `$p` for `fixedParam`, bound after the arrays.
 */
export async function insertMartRows(
  tx: Queryable,
  mart: MartDefinition,
  table: string,
  rows: readonly object[],
  fixed: FixedColumns,
  fixedParam?: unknown,
): Promise<void> {
  const columns = writtenColumns(mart);
  const names = columns.map((c) => c.column).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const fixedNames = fixed.map(([name]) => `, ${name}`).join('');
  const fixedValues = fixed.map(([, expression]) => `, ${expression.replace('$p', `$${columns.length + 1}`)}`).join('');
  const sql = `INSERT INTO ${table} (${names}${fixedNames}) SELECT ${names}${fixedValues} FROM unnest(${arrays}) AS x(${names})`;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const params: unknown[] = columns.map((c) => chunk.map((row) => paramOf(c, row)));
    if (fixedParam !== undefined) params.push(fixedParam);
    await tx.query(sql, params);
  }
}

type FieldWriter = (out: BinaryCopyBuffer, row: SqlRow) => void;

// One closure per SQL type, so each field access site sees only the few fields of its type.
function binaryWriter(mart: MartDefinition, { field, type }: MartColumn): FieldWriter {
  const orNull =
    (write: (out: BinaryCopyBuffer, value: never) => void): FieldWriter =>
    (out, row) => {
      const value = row[field];
      if (value === null || value === undefined) out.null();
      else write(out, value as never);
    };
  switch (type) {
    case 'text':
      return orNull((out, value: string) => out.text(value));
    case 'int':
      return orNull((out, value: number) => out.int4(value));
    case 'bigint':
      return orNull((out, value: string) => out.int8(value));
    case 'date':
      return orNull((out, value: string) => out.date(value));
    case 'timestamptz':
      return orNull((out, value: number) => out.timestamptz(value));
    case 'numeric':
      throw new TypeError(`${mart.table}.${field}: NUMERIC has no binary COPY encoding here; leave the mart out of bulk`);
  }
}

/**
 * A bulk mart's rows in COPY's binary format, one buffer per chunk of rows (the first also holds
 * the header, a last one the trailer); the fields are the mart's columns in writtenColumns order,
 * after `leading` text fields (full refresh's refresh_id). Made as COPY sends them, so one
 * chunk's bytes are in memory.
 */
export function* martCopyBinary(mart: MartDefinition, chunks: Iterable<readonly object[]>, leading: readonly string[]): Generator<Buffer> {
  const writers = writtenColumns(mart).map((c) => binaryWriter(mart, c));
  const out = new BinaryCopyBuffer();
  const fields = leading.length + writers.length;
  out.header();
  for (const chunk of chunks) {
    for (const row of chunk as readonly SqlRow[]) {
      out.row(fields);
      for (const value of leading) out.text(value);
      for (const write of writers) write(out, row);
    }
    yield out.take();
  }
  out.trailer();
  yield out.take();
}

// A batch of archived events as columns, the way the Parquet reader decodes them: the batch
// cores read these directly rather than one ClickEvent object per row.
import type { ClickEvent, Utf8Column } from '../marts/types.ts';
import type { DocumentNumbering } from './document-numbering.ts';
/**
 * Events as columns, row i across the arrays (the archive reader's batches have this shape).
 * clinicalAreas may hold null or '' (UNKNOWN_CLINICAL_AREA); the rest are valid events' values.
 */
export interface ClickColumns {
  readonly numRows: number;
  readonly eventIds: readonly string[];
  readonly eventTs: ArrayLike<number>;
  readonly sessionIds: readonly string[];
  readonly documentIds: readonly string[];
  readonly titles: readonly (string | null)[];
  readonly clinicalAreas: readonly (string | null)[];
  /** event_ids / session_ids as UTF-8 bytes, when the reader has them so: read instead of the strings. */
  readonly eventIdBytes?: Utf8Column;
  readonly sessionIdBytes?: Utf8Column;
  /** document_ids as numbers, NaN where beyond 2^53 − 1 (then documentIds[i] has it). */
  readonly documentIdValues?: Float64Array;
}

/** The number of row i's document in `documents`, from its value when the batch has one. */
export function documentNumberAt(batch: ClickColumns, i: number, documents: DocumentNumbering): number {
  const value = batch.documentIdValues?.[i];
  return value === undefined || Number.isNaN(value) ? documents.ofText(batch.documentIds[i] as string) : documents.ofValue(value);
}

/** Events as columns (tests and callers holding ClickEvent objects). */
export function columnsOf(events: readonly ClickEvent[]): ClickColumns {
  return {
    numRows: events.length,
    eventIds: events.map((e) => e.eventId),
    eventTs: Float64Array.from(events, (e) => e.eventTs),
    sessionIds: events.map((e) => e.sessionId),
    documentIds: events.map((e) => e.documentId),
    titles: events.map((e) => e.title),
    clinicalAreas: events.map((e) => e.clinicalArea),
  };
}

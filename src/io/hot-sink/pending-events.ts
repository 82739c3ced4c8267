// Applied events kept until their partition's retain-from instant passes, stored one row per
// partition and batch as a compact JSON array (a row per event cost more than the marts did).
import type { ClickEvent } from '../../marts/types.ts';

type PendingTuple = [eventTs: number, eventId: string, sessionId: string, documentId: string, title: string | null, clinicalArea: string];

export function encodePendingEvents(events: readonly ClickEvent[]): string {
  const tuples: PendingTuple[] = events.map((e) => [e.eventTs, e.eventId, e.sessionId, e.documentId, e.title, e.clinicalArea]);
  // NUL cannot be stored in a TEXT column; JSON escapes it inside strings as \u0000.
  return JSON.stringify(tuples);
}

export function decodePendingEvents(text: string): ClickEvent[] {
  const tuples = JSON.parse(text) as PendingTuple[];
  return tuples.map(([eventTs, eventId, sessionId, documentId, title, clinicalArea]) => ({ eventTs, eventId, sessionId, documentId, title, clinicalArea }));
}

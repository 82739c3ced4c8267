// Applies the stream processor's batch outputs to in-memory tables with the same semantics as
// the PostgreSQL sink (rows replaced per key, the combiner's frontiers fenced), so the
// processor's logic can be checked against the reference evaluator without a database.
import type { AnomalyRow, ClinicalTrendRow, HotMartRows, TopDocRow, TrafficMinuteRow } from '../../src/marts/types.ts';
import type { BatchOutput } from '../../src/stream/checkpoint-types.ts';
import type { KeyedRows } from '../../src/stream/operators/hot-operator.ts';

function replaceRows<R>(table: Map<number, readonly R[]>, replace: readonly number[], clearFrom: number | null, rows: readonly KeyedRows<R>[]): void {
  if (clearFrom !== null) for (const key of table.keys()) if (key >= clearFrom) table.delete(key);
  for (const key of replace) table.delete(key);
  for (const r of rows) table.set(r.ts, r.rows);
}

export class InMemoryMarts {
  readonly traffic = new Map<number, readonly TrafficMinuteRow[]>();
  readonly topDocs = new Map<number, readonly TopDocRow[]>();
  readonly clinical = new Map<number, readonly ClinicalTrendRow[]>();
  readonly anomalies = new Map<string, AnomalyRow>();
  readonly lateEventIds: string[] = [];
  readonly deadLetterOffsets: { offset: string; reason: string }[] = [];
  duplicates = 0;

  apply(batch: BatchOutput): void {
    const m = batch.marts;
    if (m !== null) {
      replaceRows(this.traffic, m.replaceTraffic, m.clearFrom?.traffic ?? null, m.traffic);
      replaceRows(this.topDocs, m.replaceTop, m.clearFrom?.top ?? null, m.topDocs);
      replaceRows(this.clinical, m.replaceTrend, m.clearFrom?.trend ?? null, m.clinicalTrend);
    }
    for (const d of batch.anomalyDeletes) this.anomalies.delete(`${d.detectedTs}|${d.sessionId}`);
    for (const { row } of batch.anomalyUpserts) this.anomalies.set(`${row.detectedTs}|${row.sessionId}`, row);
    for (const l of batch.lateEvents) this.lateEventIds.push(l.event.eventId);
    for (const d of batch.deadLetters) this.deadLetterOffsets.push({ offset: d.message.offset, reason: d.reason });
    this.duplicates += batch.duplicates;
  }

  rows(): HotMartRows {
    const sorted = <R>(m: Map<number, readonly R[]>): R[] => [...m.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, rows]) => rows);
    return {
      traffic: sorted(this.traffic),
      topDocs: sorted(this.topDocs),
      clinicalTrend: sorted(this.clinical),
      anomalies: [...this.anomalies.values()].sort((a, b) => a.detectedTs - b.detectedTs || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0)),
    };
  }
}

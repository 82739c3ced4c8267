// Applies the stream processor's batch outputs to in-memory tables with the same semantics as
// the PostgreSQL sink (upsert by primary key, snapshots rewritten whole), so the processor's
// logic can be checked against the reference evaluator without a database.
import type { AnomalyRow, ClinicalTrendRow, HotMartRows, TopDocRow, TrafficMinuteRow } from '../../src/marts/types.ts';
import type { BatchOutput } from '../../src/stream/checkpoint-types.ts';

export class InMemoryMarts {
  readonly traffic = new Map<number, TrafficMinuteRow>();
  readonly topDocs = new Map<number, readonly TopDocRow[]>();
  readonly clinical = new Map<number, readonly ClinicalTrendRow[]>();
  readonly anomalies = new Map<string, AnomalyRow>();
  readonly lateEventIds: string[] = [];
  readonly deadLetterOffsets: { offset: string; reason: string }[] = [];
  duplicates = 0;

  apply(batch: BatchOutput): void {
    for (const { row } of batch.traffic) this.traffic.set(row.eventMinute, row);
    for (const s of batch.topDocs) this.topDocs.set(s.snapshotTs, s.rows);
    for (const s of batch.clinicalTrend) this.clinical.set(s.snapshotTs, s.rows);
    for (const d of batch.anomalyDeletes) this.anomalies.delete(`${d.detectedTs}|${d.sessionId}`);
    for (const { row } of batch.anomalyUpserts) this.anomalies.set(`${row.detectedTs}|${row.sessionId}`, row);
    for (const l of batch.lateEvents) this.lateEventIds.push(l.event.eventId);
    for (const d of batch.deadLetters) this.deadLetterOffsets.push({ offset: d.message.offset, reason: d.reason });
    this.duplicates += batch.duplicates;
  }

  rows(): HotMartRows {
    return {
      traffic: [...this.traffic.values()].sort((a, b) => a.eventMinute - b.eventMinute),
      topDocs: [...this.topDocs.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, rows]) => rows),
      clinicalTrend: [...this.clinical.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, rows]) => rows),
      anomalies: [...this.anomalies.values()].sort((a, b) => a.detectedTs - b.detectedTs || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0)),
    };
  }
}

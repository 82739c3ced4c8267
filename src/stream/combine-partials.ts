// How partition partials combine into mart rows. The PostgreSQL sink does the same in SQL; this
// pure form is its specification and lets the processor be tested without a database.
import { TOP_DOCS_LIMIT } from '../marts/types.ts';
import type { ClinicalTrendRow, TopDocRow, TrafficMinuteRow } from '../marts/types.ts';
import { compareCodeUnits, compareDecimalIds, trendPercent } from '../marts/window-math.ts';
import { laterTitle } from './group-buckets.ts';
import type { TitleMark } from './group-buckets.ts';
import type { TopDocPartial, TrafficPartial, TrendPartial } from './checkpoint-types.ts';

export function combineTraffic(eventMinute: number, partials: readonly TrafficPartial[]): TrafficMinuteRow {
  let totalClicks = 0;
  let uniqueSessions = 0;
  const docs = new Set<string>();
  for (const p of partials) {
    totalClicks += p.clicks;
    uniqueSessions += p.sessions;
    for (const d of p.documentIds) docs.add(d);
  }
  return { eventMinute, totalClicks, uniqueSessions, uniqueDocs: docs.size };
}

export function combineTopDocs(snapshotTs: number, partials: readonly TopDocPartial[]): TopDocRow[] {
  const byDoc = new Map<string, { clicks: number; sessions: number; title: TitleMark | null }>();
  for (const p of partials) {
    const acc = byDoc.get(p.documentId) ?? { clicks: 0, sessions: 0, title: null };
    acc.clicks += p.clicks;
    acc.sessions += p.sessions;
    acc.title = laterTitle(acc.title, p.title);
    byDoc.set(p.documentId, acc);
  }
  return [...byDoc.entries()]
    .sort(([da, a], [db, b]) => b.clicks - a.clicks || b.sessions - a.sessions || compareDecimalIds(da, db))
    .slice(0, TOP_DOCS_LIMIT)
    .map(([documentId, v], i) => ({
      snapshotTs,
      rank: i + 1,
      documentId,
      title: v.title?.title ?? null,
      clickCount: v.clicks,
      uniqueSessions: v.sessions,
    }));
}

export function combineTrend(snapshotTs: number, partials: readonly TrendPartial[]): ClinicalTrendRow[] {
  const byArea = new Map<string, { clicks: number; sessions: number; previous: number }>();
  for (const p of partials) {
    const acc = byArea.get(p.clinicalArea) ?? { clicks: 0, sessions: 0, previous: 0 };
    acc.clicks += p.clicks;
    acc.sessions += p.sessions;
    acc.previous += p.previousClicks;
    byArea.set(p.clinicalArea, acc);
  }
  return [...byArea.entries()]
    .filter(([, v]) => v.clicks > 0 || v.previous > 0)
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([clinicalArea, v]) => ({
      snapshotTs,
      clinicalArea,
      clickCount: v.clicks,
      uniqueSessions: v.sessions,
      trendPct: trendPercent(v.clicks, v.previous),
    }));
}

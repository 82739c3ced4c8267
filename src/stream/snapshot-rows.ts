// Turns sliding-window values into mart rows: the top-20 ranking and the clinical trend rows.
import { compareCodeUnits, compareDecimalIds, trendPercent } from '../marts/window-math.ts';
import { TOP_DOCS_LIMIT } from '../marts/types.ts';
import type { ClinicalTrendRow, TopDocRow } from '../marts/types.ts';
import type { GroupValue } from './sliding-window.ts';

export function compareTopDocs(a: GroupValue, b: GroupValue): number {
  return b.count - a.count || b.distinctSessions - a.distinctSessions || compareDecimalIds(a.group, b.group);
}

/**
 * Top 20 of a snapshot given the frontier's values in rank order and the groups whose value
 * differs in this snapshot. Unchanged groups keep their frontier order, so only the first
 * (20 + |changed|) of them can make the cut.
 */
export function topDocRows(
  snapshotTs: number,
  frontierRanked: readonly GroupValue[],
  changed: ReadonlyMap<string, GroupValue>,
): TopDocRow[] {
  const candidates: GroupValue[] = [];
  let unchangedTaken = 0;
  for (const value of frontierRanked) {
    if (unchangedTaken >= TOP_DOCS_LIMIT) break;
    if (changed.has(value.group)) continue;
    candidates.push(value);
    unchangedTaken++;
  }
  for (const value of changed.values()) if (value.count > 0) candidates.push(value);
  candidates.sort(compareTopDocs);
  return candidates.slice(0, TOP_DOCS_LIMIT).map((v, i) => ({
    snapshotTs,
    rank: i + 1,
    documentId: v.group,
    title: v.title?.title ?? null,
    clickCount: v.count,
    uniqueSessions: v.distinctSessions,
  }));
}

export interface TrendSide {
  value(area: string): GroupValue | undefined;
  areas(): Iterable<string>;
}

export function clinicalRows(snapshotTs: number, current: TrendSide, previous: TrendSide): ClinicalTrendRow[] {
  const areas = new Set<string>([...current.areas(), ...previous.areas()]);
  const rows: ClinicalTrendRow[] = [];
  for (const area of [...areas].sort(compareCodeUnits)) {
    const cur = current.value(area);
    const prev = previous.value(area)?.count ?? 0;
    const count = cur?.count ?? 0;
    if (count === 0 && prev === 0) continue;
    rows.push({
      snapshotTs,
      clinicalArea: area,
      clickCount: count,
      uniqueSessions: count === 0 ? 0 : (cur?.distinctSessions ?? 0),
      trendPct: trendPercent(count, prev),
    });
  }
  return rows;
}

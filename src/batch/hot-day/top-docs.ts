// mart_realtime_top_docs_1h for the snapshots of D (SPEC §4.2), by sliding the hour window over
// the records minute by minute: the minute entering a window is added, the one leaving it
// subtracted, so each event is touched twice instead of once per snapshot it belongs to.
// Distinct sessions per document are exact: a (document, session) pair is counted while any of
// its events is in the window (NumericMap of per-pair event counts).
import { TOP_DOCS_LIMIT, TOP_DOCS_WINDOW_MS } from '../../marts/types.ts';
import type { TopDocRow } from '../../marts/types.ts';
import { NumericMap } from '../numeric-map.ts';
import { NO_TITLE } from './day-records.ts';
import type { DayRecords } from './day-records.ts';
import { minuteGroupOf } from './hot-day-data.ts';
import type { MinuteGroups } from './hot-day-data.ts';
import type { Interner, Numbering } from './interner.ts';

export interface TopDocsInput {
  readonly records: DayRecords;
  readonly groups: MinuteGroups;
  readonly sessions: Numbering;
  readonly documents: Numbering;
  readonly titles: Interner;
  /** Ranks of the document numbers in BIGINT order, for the ranking's last tie-break. */
  readonly documentRank: Int32Array;
  /** Compares two records' event_ids: titles at the same instant go to the greatest. */
  readonly compareEventIds: (rowA: number, rowB: number) => number;
  readonly every: number;
  readonly dayStart: number;
  readonly dayEnd: number;
}

export function topDocRows(input: TopDocsInput): TopDocRow[] {
  const { records, groups, every } = input;
  const documents = input.documents.size;
  const clicks = new Int32Array(documents);
  const sessions = new Int32Array(documents);
  const active = new ActiveSet(documents);
  const pairs = new NumericMap(1 << 16);
  const titles = new MinuteTitles(input, documents);
  const sessionStride = input.sessions.size;
  let windowClicks = 0;
  let entered = 0; // minute groups [0, entered) are in or behind the window
  let left = 0; // minute groups [0, left) are behind it

  const rows: TopDocRow[] = [];
  const first = Math.ceil(input.dayStart / every) * every;
  for (let snapshotTs = first; snapshotTs < input.dayEnd; snapshotTs += every) {
    for (const until = minuteGroupOf(groups, snapshotTs); entered < until; entered++) {
      titles.enterMinute(entered);
      for (let k = groups.start[entered] as number; k < (groups.start[entered + 1] as number); k++) {
        const row = groups.order[k] as number;
        const document = records.document.get(row);
        if ((clicks[document] = (clicks[document] as number) + 1) === 1) active.add(document);
        if (pairs.add(document * sessionStride + (records.session[row] as number), 1) === 1) sessions[document] = (sessions[document] as number) + 1;
        windowClicks++;
      }
    }
    const windowStart = snapshotTs - TOP_DOCS_WINDOW_MS;
    for (const until = minuteGroupOf(groups, windowStart); left < until; left++) {
      for (let k = groups.start[left] as number; k < (groups.start[left + 1] as number); k++) {
        const row = groups.order[k] as number;
        const document = records.document.get(row);
        if ((clicks[document] = (clicks[document] as number) - 1) === 0) active.delete(document);
        if (pairs.add(document * sessionStride + (records.session[row] as number), -1) === 0) sessions[document] = (sessions[document] as number) - 1;
        windowClicks--;
      }
    }
    if (windowClicks === 0) continue; // no snapshot for an empty window
    const top = topDocuments(active, clicks, sessions, input.documentRank);
    top.forEach((document, index) => {
      rows.push({
        snapshotTs,
        rank: index + 1,
        documentId: input.documents.name(document),
        title: titles.latestSince(document, minuteGroupOf(groups, windowStart)),
        clickCount: clicks[document] as number,
        uniqueSessions: sessions[document] as number,
      });
    });
  }
  return rows;
}

/** The TOP_DOCS_LIMIT best active documents: clicks desc, sessions desc, document_id asc. */
function topDocuments(active: ActiveSet, clicks: Int32Array, sessions: Int32Array, rank: Int32Array): number[] {
  const better = (a: number, b: number): boolean =>
    clicks[a] !== clicks[b]
      ? (clicks[a] as number) > (clicks[b] as number)
      : sessions[a] !== sessions[b]
        ? (sessions[a] as number) > (sessions[b] as number)
        : (rank[a] as number) < (rank[b] as number);
  const top: number[] = [];
  for (let i = 0; i < active.size; i++) {
    const document = active.at(i);
    if (top.length === TOP_DOCS_LIMIT && !better(document, top[TOP_DOCS_LIMIT - 1] as number)) continue;
    let at = top.length === TOP_DOCS_LIMIT ? TOP_DOCS_LIMIT - 1 : top.length;
    while (at > 0 && better(document, top[at - 1] as number)) {
      top[at] = top[at - 1] as number;
      at--;
    }
    top[at] = document;
  }
  return top;
}

/** A set of document numbers with O(1) add, delete and iteration by position. */
class ActiveSet {
  private readonly members: Int32Array;
  private readonly position: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.members = new Int32Array(capacity);
    this.position = new Int32Array(capacity).fill(-1);
  }

  add(n: number): void {
    this.position[n] = this.size;
    this.members[this.size++] = n;
  }

  delete(n: number): void {
    const at = this.position[n] as number;
    const last = this.members[--this.size] as number;
    this.members[at] = last;
    this.position[last] = at;
    this.position[n] = -1;
  }

  at(i: number): number {
    return this.members[i] as number;
  }
}

/**
 * Per document, the title of its latest titled event (by event_ts, then event_id) in the minutes
 * entered so far, and that event's minute: as minutes enter in time order, the latest titled
 * event within a window is the latest overall, provided its minute is still in the window.
 */
class MinuteTitles {
  private readonly input: TopDocsInput;
  private readonly latestTitle: Int32Array;
  private readonly latestMinute: Int32Array;
  // The best titled event of each document within the minute being entered.
  private readonly minuteOf: Int32Array;
  private readonly bestTs: Float64Array;
  private readonly bestRow: Int32Array;

  constructor(input: TopDocsInput, documents: number) {
    this.input = input;
    this.latestTitle = new Int32Array(documents).fill(NO_TITLE);
    this.latestMinute = new Int32Array(documents).fill(-1);
    this.minuteOf = new Int32Array(documents).fill(-1);
    this.bestTs = new Float64Array(documents);
    this.bestRow = new Int32Array(documents);
  }

  enterMinute(minute: number): void {
    const { records, groups } = this.input;
    const touched: number[] = [];
    for (let k = groups.start[minute] as number; k < (groups.start[minute + 1] as number); k++) {
      const row = groups.order[k] as number;
      if (records.title.get(row) === NO_TITLE) continue;
      const document = records.document.get(row);
      const ts = records.ts[row] as number; // relative to records.base, which is all a comparison needs
      if (this.minuteOf[document] !== minute) {
        this.minuteOf[document] = minute;
        touched.push(document);
      } else if (!this.later(row, ts, this.bestRow[document] as number, this.bestTs[document] as number)) continue;
      this.bestTs[document] = ts;
      this.bestRow[document] = row;
    }
    for (const document of touched) {
      this.latestTitle[document] = records.title.get(this.bestRow[document] as number);
      this.latestMinute[document] = minute;
    }
  }

  /** Is row (at ts) later than the best row by (event_ts, event_id)? Ids are decoded only for a tie. */
  private later(row: number, ts: number, best: number, bestTs: number): boolean {
    if (ts !== bestTs) return ts > bestTs;
    return this.input.compareEventIds(row, best) > 0;
  }

  /** The document's latest title if its event lies in minute group `sinceMinute` or later; else null. */
  latestSince(document: number, sinceMinute: number): string | null {
    const title = this.latestTitle[document] as number;
    if (title === NO_TITLE || (this.latestMinute[document] as number) < sinceMinute) return null;
    return this.input.titles.name(title);
  }
}

// Per-mart facts the batch steps share: the table name, the primary key, the numeric measures
// (compared by reconcile, checked for negatives by quality). One place, so that reconcile and the
// quality checks can never disagree about what a row's identity is.
import type {
  AnomalyRow,
  ClinicalAreaRow,
  ClinicalTrendRow,
  ColdMartRows,
  DailyTrafficRow,
  HotMartRows,
  PopularDocumentRow,
  SessionAnalysisRow,
  TopDocRow,
  TrafficMinuteRow,
} from '../marts/types.ts';

export type HotMartName =
  | 'mart_realtime_traffic_minute'
  | 'mart_realtime_top_docs_1h'
  | 'mart_realtime_clinical_trend_24h'
  | 'mart_realtime_anomaly_sessions';
export type ColdMartName = 'mart_session_analysis' | 'mart_daily_traffic' | 'mart_clinical_areas' | 'mart_popular_documents';
export type MartName = HotMartName | ColdMartName;
/** The dashboards' daily session rollups (db/migrations/020), derived from mart_session_analysis. */
export type SessionRollupName = 'mart_session_histogram' | 'mart_session_percentiles' | 'mart_session_clicks';

export interface MartSpec<R> {
  readonly mart: MartName;
  /** The primary key as one string. */
  readonly key: (row: R) => string;
  /**
   * Numeric measures: counts, durations, peak hour, trend_pct (decimal text). Instants are
   * left out on purpose — a moved window_end would otherwise report a "difference" in
   * milliseconds that dwarfs every count; a changed instant still makes the row changed.
   */
  readonly measures: readonly (keyof R & string)[];
  /** The measures that can never be negative (trend_pct can). */
  readonly nonNegative: readonly (keyof R & string)[];
}

// A JSON array of the key fields: unambiguous whatever characters the ids hold.
const tuple = (...fields: readonly (string | number)[]): string => JSON.stringify(fields);

export const TRAFFIC_SPEC: MartSpec<TrafficMinuteRow> = {
  mart: 'mart_realtime_traffic_minute',
  key: (r) => String(r.eventMinute),
  measures: ['totalClicks', 'uniqueSessions', 'uniqueDocs'],
  nonNegative: ['totalClicks', 'uniqueSessions', 'uniqueDocs'],
};

export const TOP_DOCS_SPEC: MartSpec<TopDocRow> = {
  mart: 'mart_realtime_top_docs_1h',
  key: (r) => tuple(r.snapshotTs, r.rank),
  measures: ['clickCount', 'uniqueSessions'],
  nonNegative: ['rank', 'clickCount', 'uniqueSessions'],
};

export const CLINICAL_TREND_SPEC: MartSpec<ClinicalTrendRow> = {
  mart: 'mart_realtime_clinical_trend_24h',
  key: (r) => tuple(r.snapshotTs, r.clinicalArea),
  measures: ['clickCount', 'uniqueSessions', 'trendPct'],
  nonNegative: ['clickCount', 'uniqueSessions'],
};

export const ANOMALY_SPEC: MartSpec<AnomalyRow> = {
  mart: 'mart_realtime_anomaly_sessions',
  key: (r) => tuple(r.detectedTs, r.sessionId),
  measures: ['clickCount'],
  nonNegative: ['clickCount'],
};

export const SESSION_ANALYSIS_SPEC: MartSpec<SessionAnalysisRow> = {
  mart: 'mart_session_analysis',
  key: (r) => tuple(r.sessionId, r.eventDate),
  measures: ['clickCount', 'uniqueDocs', 'sessionDurationSec'],
  nonNegative: ['clickCount', 'uniqueDocs', 'sessionDurationSec'],
};

export const DAILY_TRAFFIC_SPEC: MartSpec<DailyTrafficRow> = {
  mart: 'mart_daily_traffic',
  key: (r) => r.eventDate,
  measures: ['totalEvents', 'uniqueSessions', 'uniqueDocuments', 'peakHour'],
  nonNegative: ['totalEvents', 'uniqueSessions', 'uniqueDocuments', 'peakHour'],
};

export const CLINICAL_AREAS_SPEC: MartSpec<ClinicalAreaRow> = {
  mart: 'mart_clinical_areas',
  key: (r) => tuple(r.eventDate, r.clinicalArea),
  measures: ['searchCount', 'uniqueSessions'],
  nonNegative: ['searchCount', 'uniqueSessions'],
};

export const POPULAR_DOCUMENTS_SPEC: MartSpec<PopularDocumentRow> = {
  mart: 'mart_popular_documents',
  key: (r) => tuple(r.eventDate, r.documentId),
  measures: ['viewCount', 'uniqueSessions'],
  nonNegative: ['viewCount', 'uniqueSessions'],
};

/** Which field of HotMartRows / ColdMartRows each spec describes. */
export const HOT_SPECS = {
  traffic: TRAFFIC_SPEC,
  topDocs: TOP_DOCS_SPEC,
  clinicalTrend: CLINICAL_TREND_SPEC,
  anomalies: ANOMALY_SPEC,
} as const satisfies { readonly [K in keyof HotMartRows]: MartSpec<HotMartRows[K][number]> };

export const COLD_SPECS = {
  sessionAnalysis: SESSION_ANALYSIS_SPEC,
  dailyTraffic: DAILY_TRAFFIC_SPEC,
  clinicalAreas: CLINICAL_AREAS_SPEC,
  popularDocuments: POPULAR_DOCUMENTS_SPEC,
} as const satisfies { readonly [K in keyof ColdMartRows]: MartSpec<ColdMartRows[K][number]> };

/** A measure as a number: counts are numbers already, trend_pct is decimal text or null. */
export function measureValue(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

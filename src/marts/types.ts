// Shared vocabulary of tidemark: the curated click event, the dead-letter reasons, and one row
// type per mart. Everything else (stream, batch, io) speaks in these types.

/** A valid curated click event (SPEC §2), normalised. */
export interface ClickEvent {
  readonly eventId: string;
  /** Event time, epoch milliseconds UTC. */
  readonly eventTs: number;
  readonly sessionId: string;
  /** Canonical decimal string (no sign, no leading zeros), 0 … 2^63−1, kept exact. */
  readonly documentId: string;
  readonly title: string | null;
  /** Never null or empty: null and '' become 'unknown'. */
  readonly clinicalArea: string;
}

/** Where a raw message came from; offsets are decimal strings so Kafka's int64 stays exact. */
export interface MessagePosition {
  /** 'kafka:<topic>', 'file:<path>', 'generator:<name>' … */
  readonly source: string;
  readonly partition: number;
  readonly offset: string;
}

/** A text column's UTF-8 bytes, as a columnar reader holds them: value i is bytes[offsets[i] … offsets[i + 1]). */
export interface Utf8Column {
  readonly bytes: Uint8Array;
  readonly offsets: Int32Array;
}

/** One message as read from a source, before parsing. */
export interface RawMessage extends MessagePosition {
  /** JSON text or bytes (Kafka/file), or an already-decoded record (Parquet). */
  readonly value: Uint8Array | string | Readonly<Record<string, unknown>> | null;
  /** Wall-clock milliseconds when the source handed it over. */
  readonly receivedAt: number;
  /** Producer-side timestamp when the source has one (Kafka), for freshness metrics. */
  readonly producedAt?: number;
  /** Message key when the source has one (the generator's session id), for a producer to partition by. */
  readonly key?: string;
}

/** Bytes of a too-large message kept in its dead letter, unless configured otherwise (64 KiB). */
export const DEFAULT_DEAD_LETTER_MAX_BYTES = 65_536;

/**
 * The first bytes of a message too large to hold whole (a source reading a huge line streams
 * over the rest instead of building it): the contract dead-letters it as too_large with its
 * size as sent, and the dead letter keeps these bytes as its bounded prefix.
 */
export class OversizedMessage extends Uint8Array {
  readonly originalBytes: number;
  constructor(prefix: Uint8Array, originalBytes: number) {
    super(prefix);
    this.originalBytes = originalBytes;
  }
}

/**
 * Input that could not be read as messages at all — a Parquet file that is not one, or whose
 * schema is not the archive's, or one unreadable row group — handed to the contract as one
 * message in place of everything it held, so that it is dead-lettered like any bad message:
 * with its own reason, a detail naming the file, and the first bytes of the input.
 */
export class UnreadableInput extends Uint8Array {
  readonly originalBytes: number;
  readonly reason: 'parquet_unreadable' | 'parquet_schema';
  readonly detail: string;
  constructor(prefix: Uint8Array, originalBytes: number, reason: UnreadableInput['reason'], detail: string) {
    super(prefix);
    this.originalBytes = originalBytes;
    this.reason = reason;
    this.detail = detail;
  }
}

export const DEAD_LETTER_REASONS = [
  'too_large',
  'invalid_encoding',
  'invalid_json',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'invalid_value',
  'unsafe_number',
  'invalid_timestamp',
  'future_timestamp',
  'parquet_unreadable',
  'parquet_schema',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export type ParseOutcome =
  | { readonly ok: true; readonly event: ClickEvent }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };

export type Severity = 'WARNING' | 'CRITICAL';

// ---- hot marts (SPEC §4); all instants are epoch milliseconds UTC ----

export interface TrafficMinuteRow {
  readonly eventMinute: number;
  readonly totalClicks: number;
  readonly uniqueSessions: number;
  readonly uniqueDocs: number;
}

export interface TopDocRow {
  readonly snapshotTs: number;
  readonly rank: number;
  readonly documentId: string;
  readonly title: string | null;
  readonly clickCount: number;
  readonly uniqueSessions: number;
}

export interface ClinicalTrendRow {
  readonly snapshotTs: number;
  readonly clinicalArea: string;
  readonly clickCount: number;
  readonly uniqueSessions: number;
  /** NUMERIC(10,2) as an exact decimal string, e.g. '-100.00'; null when the previous window is empty. */
  readonly trendPct: string | null;
}

export interface AnomalyRow {
  readonly detectedTs: number;
  readonly sessionId: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly clickCount: number;
  readonly severity: Severity;
}

export interface HotMartRows {
  readonly traffic: readonly TrafficMinuteRow[];
  readonly topDocs: readonly TopDocRow[];
  readonly clinicalTrend: readonly ClinicalTrendRow[];
  readonly anomalies: readonly AnomalyRow[];
}

// ---- cold marts (SPEC §5); event_date is 'YYYY-MM-DD' in MART_TIMEZONE ----

export interface SessionAnalysisRow {
  readonly sessionId: string;
  readonly eventDate: string;
  readonly clickCount: number;
  readonly uniqueDocs: number;
  readonly firstClickTs: number;
  readonly lastClickTs: number;
  readonly sessionDurationSec: number;
}

export interface DailyTrafficRow {
  readonly eventDate: string;
  readonly totalEvents: number;
  readonly uniqueSessions: number;
  readonly uniqueDocuments: number;
  readonly peakHour: number;
}

export interface ClinicalAreaRow {
  readonly eventDate: string;
  readonly clinicalArea: string;
  readonly searchCount: number;
  readonly uniqueSessions: number;
}

export interface PopularDocumentRow {
  readonly eventDate: string;
  readonly documentId: string;
  readonly title: string | null;
  readonly viewCount: number;
  readonly uniqueSessions: number;
}

export interface ColdMartRows {
  readonly sessionAnalysis: readonly SessionAnalysisRow[];
  readonly dailyTraffic: readonly DailyTrafficRow[];
  readonly clinicalAreas: readonly ClinicalAreaRow[];
  readonly popularDocuments: readonly PopularDocumentRow[];
}

/**
 * A day's cold rows as the cold step writes them: the session rows (millions on a busy day) as
 * a one-pass sequence of chunks, so that they never all exist as objects at once; the other
 * marts' few rows whole.
 */
export interface ColdMartChunks {
  readonly sessionCount: number;
  /** Iterable once: the rows are made from the day's tallies, which the last chunk frees. */
  readonly sessionChunks: Iterable<readonly SessionAnalysisRow[]>;
  readonly dailyTraffic: readonly DailyTrafficRow[];
  readonly clinicalAreas: readonly ClinicalAreaRow[];
  readonly popularDocuments: readonly PopularDocumentRow[];
}

/** The knobs that change mart values; durations in milliseconds. */
export interface MartSettings {
  readonly timeZone: string;
  readonly topDocsEveryMs: number;
  readonly clinicalTrendEveryMs: number;
  readonly anomalySpanMs: number;
  readonly anomalyWarning: number;
  readonly anomalyCritical: number;
}

export const DEFAULT_MART_SETTINGS: MartSettings = Object.freeze({
  timeZone: 'UTC',
  topDocsEveryMs: 60_000,
  clinicalTrendEveryMs: 5 * 60_000,
  anomalySpanMs: 5 * 60_000,
  anomalyWarning: 50,
  anomalyCritical: 100,
});

/** Constants fixed by the spec (not configurable). */
export const TOP_DOCS_WINDOW_MS = 60 * 60_000;
export const TOP_DOCS_LIMIT = 20;
export const CLINICAL_WINDOW_MS = 24 * 60 * 60_000;
export const UNKNOWN_CLINICAL_AREA = 'unknown';

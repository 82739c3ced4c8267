// When the archive writer flushes its buffer: at a row count, a byte size, or an age of the
// oldest buffered message, whichever comes first (ARCHIVE_FLUSH_ROWS / _BYTES / _INTERVAL).
export interface FlushLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

export interface BufferState {
  /** Messages buffered (valid or not: every consumed offset is part of the flushed range). */
  readonly messages: number;
  readonly bytes: number;
  /** Wall clock when the oldest buffered message was read; null when the buffer is empty. */
  readonly oldestAt: number | null;
}

export type FlushReason = 'rows' | 'bytes' | 'interval';

export function flushReason(buffer: BufferState, limits: FlushLimits, now: number): FlushReason | null {
  if (buffer.messages === 0 || buffer.oldestAt === null) return null;
  if (buffer.messages >= limits.maxRows) return 'rows';
  if (buffer.bytes >= limits.maxBytes) return 'bytes';
  if (now - buffer.oldestAt >= limits.maxAgeMs) return 'interval';
  return null;
}

/** How long the writer may wait for messages before the interval limit is due (≥ 0). */
export function msUntilDue(buffer: BufferState, limits: FlushLimits, now: number): number {
  if (buffer.messages === 0 || buffer.oldestAt === null) return Number.POSITIVE_INFINITY;
  return Math.max(0, buffer.oldestAt + limits.maxAgeMs - now);
}

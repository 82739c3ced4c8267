// Catch-up progress in a consumer's log: after a restart or an outage an operator wants to know
// how far behind the consumer is and when it will have caught up, without a dashboard. Fed with
// the committed next offsets and the log's end offsets; logs at most every `everyMs` while behind
// (messages behind, the rate at which the gap closes, the estimated time to caught up), and once
// when the gap is closed.
import type { Logger } from './log.ts';

export interface CatchUpLog {
  /** After a commit: the partitions' next offsets, and the log's ends when known. */
  committed(partitions: readonly { readonly partition: number; readonly nextOffset: string | null }[], logEnds: ReadonlyMap<number, string> | undefined): void;
}

export function createCatchUpLog(log: Logger, clock: () => number, everyMs = 10_000): CatchUpLog {
  const next = new Map<number, bigint>();
  let reportedAt: number | null = null;
  let reportedBehind = 0;
  let behindSeen = false;
  return {
    committed(partitions, logEnds) {
      for (const p of partitions) if (p.nextOffset !== null) next.set(p.partition, BigInt(p.nextOffset));
      if (logEnds === undefined) return;
      let behind = 0n;
      for (const [partition, offset] of next) {
        const end = logEnds.get(partition);
        if (end !== undefined && BigInt(end) > offset) behind += BigInt(end) - offset;
      }
      const now = clock();
      const gap = Number(behind);
      if (gap === 0) {
        if (behindSeen) log.info('caught up', { behind: 0 });
        behindSeen = false;
        reportedAt = null;
        return;
      }
      if (reportedAt !== null && now - reportedAt < everyMs) return;
      // Messages per second by which the gap shrank since the last report (producers included).
      const rate = reportedAt === null ? null : (reportedBehind - gap) / ((now - reportedAt) / 1000);
      const eta = rate !== null && rate > 0 ? Math.round(gap / rate) : null;
      log.info('catching up', { behind: gap, closing_per_s: rate === null ? null : Math.round(rate), eta_s: eta });
      behindSeen = true;
      reportedAt = now;
      reportedBehind = gap;
    },
  };
}

// The Redis checks every BullMQ-using command runs before it touches the queue (`worker`,
// `schedule`, `backfill`, and `demo` with REDIS_URL): BullMQ loses jobs silently on a Redis that
// evicts keys, so such a Redis is refused up front with one line instead of failing later.
import { ConfigError } from '../../config.ts';
import type { TidemarkConfig } from '../../config.ts';
import { errorText } from '../../io/queue/queue-port.ts';

export function requireRedis(config: TidemarkConfig, command: string): string {
  if (config.redis.url === null) {
    throw new ConfigError('REDIS_URL', `REDIS_URL is not set; \`tidemark ${command}\` needs Redis for BullMQ (without it, backfills and the demo run in-process)`);
  }
  return config.redis.url;
}

/** Null when Redis is fit for BullMQ; otherwise the exit code after printing one line. */
export async function checkRedis(url: string, command: string): Promise<number | null> {
  try {
    // Loaded here, with Redis configured: BullMQ's client is no weight for processes without it.
    const { redisEvictionProblem } = await import('../../io/queue/bullmq-queue.ts');
    const problem = await redisEvictionProblem(url);
    if (problem === null) return null;
    process.stderr.write(`tidemark ${command}: ${problem.message}\n`);
    return problem.fatal ? 1 : null;
  } catch (error) {
    process.stderr.write(`tidemark ${command}: cannot reach Redis (${errorText(error)})\n`);
    return 1;
  }
}

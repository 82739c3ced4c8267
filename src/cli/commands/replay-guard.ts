// A replay that could only discard or overwrite is refused before it reads anything:
// - the consumer already finished a bounded replay of another input: its watermark is final, so
//   every event of the new input would only be counted late (0 applied, exit 0 before);
// - another consumer's results are in the hot marts: each hot-mart row is one consumer's view, so
//   a second consumer writing the same minutes would overwrite the first one's counts.
// Resuming a consumer on its own input (after a crash, or a rerun that applies nothing) is not
// affected: the check runs only when this input has no checkpoint yet.
import type { Queryable } from '../../io/db/database.ts';
import { InputFileError } from '../../io/file/input-file.ts';
import { loadStoredWatermark } from '../../io/hot-sink/checkpoint-store.ts';
import type { MessageSource } from '../../io/source.ts';

/** sysexits(3) EX_USAGE: the command cannot do what was asked with these arguments. */
export const EXIT_REFUSED_REPLAY = 64;

const WHAT_TO_DO = 'replay into an empty database (DATABASE_URL, or another TIDEMARK_HOME), or replay all the inputs as one file';

/** The source, refusing at start() a replay that would discard its events or overwrite another consumer's. */
export function guardReplay(db: Queryable, consumer: string, input: string, source: MessageSource): MessageSource {
  return {
    bounded: source.bounded,
    start: (hooks) =>
      source.start({
        offsetsFor: async (name, partitions) => {
          const offsets = await hooks.offsetsFor(name, partitions);
          if ([...offsets.values()].every((o) => o === null)) await refuseFreshStart(db, consumer, input, name);
          return offsets;
        },
      }),
    poll: (max, wait) => source.poll(max, wait),
    close: () => source.close(),
  };
}

async function refuseFreshStart(db: Queryable, consumer: string, input: string, sourceName: string): Promise<void> {
  if ((await loadStoredWatermark(db, 'stream_consumers', consumer)) === Number.POSITIVE_INFINITY) {
    const done = await db.query<{ source: string }>(`SELECT DISTINCT source FROM stream_partitions WHERE consumer = $1 AND source <> $2 ORDER BY source LIMIT 1`, [consumer, sourceName]);
    throw new InputFileError(
      `${input}: refused: consumer '${consumer}' already finished replaying ${done.rows[0]?.source ?? 'another input'}, so its watermark is final and ` +
        `every event of ${input} would only be counted late; ${WHAT_TO_DO}`,
      EXIT_REFUSED_REPLAY,
    );
  }
  const others = await db.query<{ consumer: string }>(
    `SELECT consumer FROM stream_consumers WHERE consumer <> $1 AND EXISTS (SELECT 1 FROM stream_partitions p WHERE p.consumer = stream_consumers.consumer) ORDER BY consumer LIMIT 1`,
    [consumer],
  );
  const other = others.rows[0]?.consumer;
  if (other !== undefined) {
    throw new InputFileError(
      `${input}: refused: the hot marts hold the results of consumer '${other}', and replaying as '${consumer}' would overwrite the minutes they share; ${WHAT_TO_DO}`,
      EXIT_REFUSED_REPLAY,
    );
  }
}

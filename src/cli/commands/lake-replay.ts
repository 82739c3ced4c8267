// `tidemark replay s3://bucket/prefix` (or file:///lake): the archive under a lake prefix as a
// bounded source for the stream engine.
import { ConfigError, parseLakeUrl } from '../../config.ts';
import type { TidemarkConfig } from '../../config.ts';
import { createLakePrefixSource } from '../../io/lake/lake-prefix-source.ts';
import { openLake } from '../../io/lake/open-lake.ts';
import { EXIT_NO_PERMISSION, EXIT_UNAVAILABLE, InputFileError } from '../../io/file/input-file.ts';
import type { MessageSource } from '../../io/source.ts';
import { UsageError } from '../command.ts';

export function isLakeUrl(argument: string): boolean {
  return argument.startsWith('s3://') || argument.startsWith('file://');
}

/** The source owns the lake it opens: closing the source closes the lake. */
export function openLakeReplaySource(config: TidemarkConfig, url: string, onUnreadable?: (detail: string) => void): MessageSource {
  let location;
  try {
    location = parseLakeUrl(url);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message.replace(/^LAKE_URL=/, ''));
    throw error;
  }
  return reportingLakeErrors(url, createLakePrefixSource(openLake(location, config.s3), '', { ownsLake: true, ...(onUnreadable === undefined ? {} : { onUnreadable }) }));
}

/**
 * The lake's client errors ("Could not load credentials from any providers", a refused
 * connection) do not say which setting or prefix is at fault: name them, so that the CLI prints
 * one line with its own exit code (77 for credentials, 69 for an unreachable store).
 */
function reportingLakeErrors(url: string, source: MessageSource): MessageSource {
  const named = (error: unknown): unknown => {
    if (error instanceof InputFileError) return error;
    const message = (error as Error)?.message ?? String(error);
    return /credential|access denied|forbidden|signature/i.test(message)
      ? new InputFileError(`${url}: the lake refused access: ${message} (check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)`, EXIT_NO_PERMISSION, { cause: error })
      : new InputFileError(`${url}: cannot read the lake: ${message} (check S3_ENDPOINT and the prefix)`, EXIT_UNAVAILABLE, { cause: error });
  };
  return {
    bounded: source.bounded,
    start: (hooks) => source.start(hooks).catch((error: unknown) => Promise.reject(named(error))),
    poll: (max, wait) => source.poll(max, wait).catch((error: unknown) => Promise.reject(named(error))),
    close: () => source.close(),
  };
}

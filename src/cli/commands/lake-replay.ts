// `tidemark replay s3://bucket/prefix` (or file:///lake): the archive under a lake prefix as a
// bounded source for the stream engine.
import { ConfigError, parseLakeUrl } from '../../config.ts';
import type { TidemarkConfig } from '../../config.ts';
import { createLakePrefixSource } from '../../io/lake/lake-prefix-source.ts';
import { openLake } from '../../io/lake/open-lake.ts';
import type { MessageSource } from '../../io/source.ts';
import { UsageError } from '../command.ts';

export function isLakeUrl(argument: string): boolean {
  return argument.startsWith('s3://') || argument.startsWith('file://');
}

/** The source owns the lake it opens: closing the source closes the lake. */
export function openLakeReplaySource(config: TidemarkConfig, url: string): MessageSource {
  let location;
  try {
    location = parseLakeUrl(url);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message.replace(/^LAKE_URL=/, ''));
    throw error;
  }
  return createLakePrefixSource(openLake(location, config.s3), '', { ownsLake: true });
}

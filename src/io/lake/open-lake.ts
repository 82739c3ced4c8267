// Opens the lake named by LAKE_URL: a local folder for file://, S3 for s3://bucket/prefix.
import type { LakeLocation, TidemarkConfig } from '../../config.ts';
import type { Lake } from './lake.ts';
import { openLocalFolderLake } from './local-folder-lake.ts';
import { openS3Lake } from './s3-lake.ts';

export function openLake(location: LakeLocation, s3: TidemarkConfig['s3']): Lake {
  if (location.kind === 'file') return openLocalFolderLake(location.path, location.url);
  return openS3Lake({ ...s3, bucket: location.bucket, prefix: location.prefix, url: location.url });
}

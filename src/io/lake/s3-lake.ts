// The lake on S3 or any S3-compatible store (LAKE_URL=s3://bucket/prefix): keys are stored under
// the URL's prefix. A PUT is atomic for readers (they see the old object or the new one), which
// is exactly what the Lake port promises. The AWS SDK is loaded at the lake's first request, not
// at import: every process imports this module, most (the embedded demo) never use it, and the
// SDK's code costs ~10 MB of resident memory (BENCHMARKS.md, "Embedded demo").
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Lake, LakeObject } from './lake.ts';

export interface S3LakeOptions {
  readonly bucket: string;
  /** '' or ends with '/'. */
  readonly prefix: string;
  /** null: AWS's own endpoint for the region. */
  readonly endpoint: string | null;
  readonly region: string;
  /** Both null: the AWS default credential chain. */
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
  /** bucket in the path (MinIO and most S3-compatible stores) instead of in the host name. */
  readonly forcePathStyle: boolean;
  /** For logs and status; default s3://bucket/prefix. */
  readonly url?: string;
}

export function openS3Lake(options: S3LakeOptions): Lake {
  const { bucket, prefix } = options;
  if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`S3 lake prefix must be '' or end with '/', got '${prefix}'`);
  let loaded: Promise<{ sdk: typeof S3Sdk; client: S3Client }> | undefined;
  const connect = (): Promise<{ sdk: typeof S3Sdk; client: S3Client }> =>
    (loaded ??= import('@aws-sdk/client-s3').then((sdk) => {
      const client = new sdk.S3Client({
        region: options.region,
        forcePathStyle: options.forcePathStyle,
        ...(options.endpoint === null ? {} : { endpoint: options.endpoint }),
        ...(options.accessKeyId === null || options.secretAccessKey === null
          ? {}
          : { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }),
        // Checksums only where S3 requires them: several S3-compatible stores reject the newer
        // default (CRC32 trailers on every upload).
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      return { sdk, client };
    }));
  const fullKey = (key: string): string => {
    if (key === '' || key.split('/').some((part) => part === '..' || part === '')) throw new Error(`invalid lake key '${key}'`);
    return `${prefix}${key}`;
  };
  return {
    url: options.url ?? `s3://${bucket}/${prefix}`,
    async put(key, body) {
      const { sdk, client } = await connect();
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: fullKey(key), Body: body, ContentLength: body.byteLength }));
    },
    async get(key) {
      const { sdk, client } = await connect();
      try {
        const response = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
        if (response.Body === undefined) return new Uint8Array(0);
        return await response.Body.transformToByteArray();
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    async list(keyPrefix) {
      const { sdk, client } = await connect();
      const found: LakeObject[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${keyPrefix}`, ...(token === undefined ? {} : { ContinuationToken: token }) }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          found.push({ key: object.Key.slice(prefix.length), size: object.Size ?? 0 });
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      // S3 lists in UTF-8 byte order; the port promises JavaScript string order, which differs
      // only outside the BMP, but sorting here keeps both adapters identical.
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key) {
      // S3 answers 204 for a missing key too: deleting nothing is not an error.
      const { sdk, client } = await connect();
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
    },
    async close() {
      if (loaded === undefined) return;
      (await loaded).client.destroy();
    },
  };
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

// Bearer-token check for the state-changing endpoints. The comparison runs in constant time over
// fixed-length digests, so neither the token's content nor its length leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = 'disabled' | 'missing' | 'wrong' | 'ok';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function checkBearerToken(expected: string | null, authorization: string | undefined): TokenCheck {
  if (expected === null) return 'disabled';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (match === null) return 'missing';
  return timingSafeEqual(digest(match[1]!), digest(expected)) ? 'ok' : 'wrong';
}

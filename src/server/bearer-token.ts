// Token check for the state-changing endpoints and the admin pages. The comparison runs in
// constant time over fixed-length digests, so neither the token's content nor its length leaks
// through timing. Admin pages opened in a browser may send the token as a Basic-auth password
// (any user name), which the browser asks for itself.
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = 'disabled' | 'missing' | 'wrong' | 'ok';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function checkBearerToken(expected: string | null, authorization: string | undefined, options: { allowBasic?: boolean } = {}): TokenCheck {
  if (expected === null) return 'disabled';
  let given: string | undefined = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (given === undefined && options.allowBasic === true) {
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '')?.[1];
    if (basic !== undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon !== -1) given = decoded.slice(colon + 1);
    }
  }
  if (given === undefined) return 'missing';
  return timingSafeEqual(digest(given), digest(expected)) ? 'ok' : 'wrong';
}

import { createHash, timingSafeEqual } from 'node:crypto';

/** Credentials `/metrics` requires; either kind (or both: then either one is accepted). */
export interface ScrapeAuth {
  /** `Authorization: Bearer <token>` (Prometheus: `authorization: { credentials: <token> }`). */
  bearerToken?: string;
  /** `Authorization: Basic …` (Prometheus: `basic_auth: { username, password }`). */
  basic?: { username: string; password: string };
}

function digest(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Checks the `Authorization` header of a scrape. Credentials are compared as SHA-256 digests with
 * `crypto.timingSafeEqual`, so neither their content nor their length shows in the response time.
 */
export class ScrapeAuthenticator {
  private readonly bearer: Buffer | undefined;
  private readonly basic: Buffer | undefined;
  /** The `WWW-Authenticate` challenges of a 401. */
  readonly challenges: string[];

  constructor(auth: ScrapeAuth) {
    this.bearer = auth.bearerToken !== undefined ? digest(auth.bearerToken) : undefined;
    this.basic = auth.basic !== undefined ? digest(`${auth.basic.username}:${auth.basic.password}`) : undefined;
    this.challenges = [];
    if (this.bearer) this.challenges.push('Bearer realm="metrics"');
    if (this.basic) this.challenges.push('Basic realm="metrics", charset="UTF-8"');
  }

  /** Whether `header` (the request's `Authorization`) carries one of the configured credentials. */
  accepts(header: string | undefined): boolean {
    if (header === undefined) return false;
    const space = header.indexOf(' ');
    if (space < 0) return false;
    const scheme = header.slice(0, space).toLowerCase();
    const credentials = header.slice(space + 1).trim();
    if (scheme === 'bearer' && this.bearer) return timingSafeEqual(digest(credentials), this.bearer);
    if (scheme === 'basic' && this.basic) return timingSafeEqual(digest(Buffer.from(credentials, 'base64')), this.basic);
    return false;
  }
}

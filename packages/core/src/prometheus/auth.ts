import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

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

/** Bytes of a request's header section kept for the request line and a scraper's other headers (Host, Accept, …). */
export const HEADER_ROOM = 1024;

/**
 * The longest `Authorization` value a client can send to this process: Node's header limit (`http.maxHeaderSize`,
 * 16 KB unless `--max-http-header-size` says otherwise) less `HEADER_ROOM` and the header's name.
 */
export function maxAuthorizationLength(): number {
  return http.maxHeaderSize - HEADER_ROOM - 'Authorization: '.length;
}

function tooLong(length: number): string | undefined {
  const max = maxAuthorizationLength();
  return length > max
    ? `makes an Authorization header of ${length} bytes, and Node accepts at most ${max} here (http.maxHeaderSize ${http.maxHeaderSize} less ${HEADER_ROOM} for the other headers): no client could send it; use a shorter one`
    : undefined;
}

/**
 * What is wrong with a bearer token a client could never send so that it matches, or undefined. RFC 6750 tokens
 * are ASCII, and Node reads header bytes as latin1, so a non-ASCII token (sent as UTF-8) would get 401 forever.
 */
export function bearerTokenProblem(token: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(token))
    return 'must be printable ASCII without spaces (RFC 6750 tokens are ASCII; a client could never send another one that matches)';
  return tooLong('Bearer '.length + token.length);
}

/** What is wrong with basic credentials a client could never send, or undefined (non-ASCII is fine: base64 of UTF-8). */
export function basicProblem(username: string, password: string): string | undefined {
  return tooLong('Basic '.length + Math.ceil(Buffer.byteLength(`${username}:${password}`) / 3) * 4);
}

/**
 * The first problem of configured credentials that no client could ever send, as `<where it was set> <problem>`
 * (the environment variable, or the option when `fromOptions`), or undefined. Checked at start-up.
 */
export function scrapeAuthProblem(auth: ScrapeAuth, fromOptions: boolean): string | undefined {
  if (auth.bearerToken !== undefined) {
    const p = bearerTokenProblem(auth.bearerToken);
    if (p)
      return `${fromOptions ? 'options.prometheus.auth.bearerToken' : 'TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN'} ${p}`;
  }
  if (auth.basic !== undefined) {
    const p = basicProblem(auth.basic.username, auth.basic.password);
    if (p) return `${fromOptions ? 'options.prometheus.auth.basic' : 'TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH'} ${p}`;
  }
  return undefined;
}

/**
 * The bytes of a base64 string, or undefined unless it is canonical base64 (RFC 4648 section 4: the standard
 * alphabet, padded, no other character, zero bits past the last byte). Node's decoder skips what it does not know
 * (`…!!!`) and takes the base64url alphabet too; a string is canonical exactly when encoding its bytes again gives
 * it back.
 */
export function strictBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
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
    // Node reads header bytes as latin1: back to the bytes the client sent.
    if (scheme === 'bearer' && this.bearer)
      return timingSafeEqual(digest(Buffer.from(credentials, 'latin1')), this.bearer);
    if (scheme === 'basic' && this.basic) {
      const bytes = strictBase64(credentials);
      return bytes !== undefined && timingSafeEqual(digest(bytes), this.basic);
    }
    return false;
  }
}

/* The labels of the HTTP metrics, client and server alike: the one place for the method and status labels. */

/** The methods kept as they are in the `request_method` (client) and `method` (server) labels; others: `_OTHER`. */
export const KNOWN_METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
];
export const OTHER_METHOD = '_OTHER';
/** The status label of a request that got no response (connection refused, reset, aborted, timed out). */
export const ERROR_STATUS = 'error';
/** The `status` label of a served request whose response did not finish (the client went away, the socket was destroyed). */
export const ABORTED_STATUS = 'aborted';
/** The `size` label of a pool without a connection limit. */
export const UNLIMITED = 'unlimited';

const methods = new Set<unknown>(KNOWN_METHODS);

/**
 * The method label of an HTTP method: a standard method as it is, anything else `_OTHER`. Methods are
 * case-sensitive (RFC 9110), so `get` is not `GET` (undici sends it as written; servers answer 400).
 */
export function methodLabel(method: unknown): string {
  return methods.has(method) ? (method as string) : OTHER_METHOD;
}

/** The client's response status label: the numeric status code, or `error` when no response arrived. */
export function statusLabel(statusCode: number | undefined): string {
  return statusCode === undefined ? ERROR_STATUS : String(statusCode);
}

/** The `size` label of a pool: its connection limit, `unlimited` when undici opens as many as needed. */
export function poolSizeLabel(connections: number | null | undefined): string {
  return connections === undefined || connections === null || connections === 0 ? UNLIMITED : String(connections);
}

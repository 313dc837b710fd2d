import type { Server } from 'node:http';

export interface InstrumentHttpServerOptions {
  /** The route template for a request (e.g. `/api/projects/:id`); `undefined` means `unmatched`. */
  routeFor?: (req: import('node:http').IncomingMessage) => string | undefined;
}

/** Records `tuist_http_server_*` for every request a `node:http` server handles. (Implemented by the runtime work.) */
export function instrumentHttpServer<S extends Server>(server: S, _options: InstrumentHttpServerOptions = {}): S {
  return server;
}

import type http from 'node:http';

/**
 * The gzip members of one body, in order, as they come out of the compressors (compress.ts): a response is written
 * while the rest of its body is still rendered and compressed, so the scraper decompresses the first members
 * meanwhile; the scrapes that arrive while it is produced share it.
 */
export class MemberStream {
  readonly members: Buffer[] = [];
  /** The last member is in (or the render failed: `failure`). */
  done = false;
  failure: Error | undefined;
  /** Settles once there is something to write (a member, or the end); rejects when the render failed before that. */
  readonly started: Promise<void>;
  private begin!: () => void;
  private abort!: (err: Error) => void;
  private listeners: (() => void)[] = [];
  /** Listeners are told once per turn of the event loop: members that come together are written together. */
  private scheduled = false;

  constructor() {
    this.started = new Promise<void>((resolve, reject) => {
      this.begin = resolve;
      this.abort = reject;
    });
    // A failure before anyone asked is seen through `failure`, not as an unhandled rejection.
    this.started.catch(() => {});
  }

  push(member: Buffer): void {
    this.members.push(member);
    this.begin();
    this.changed();
  }

  end(): void {
    this.done = true;
    this.begin();
    this.changed();
  }

  fail(err: unknown): void {
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.done = true;
    this.abort(this.failure);
    this.changed();
  }

  /** `f` is called once at the next change (a member in, the end, a failure). */
  onChange(f: () => void): void {
    this.listeners.push(f);
  }

  private changed(): void {
    if (this.scheduled || this.listeners.length === 0) return;
    this.scheduled = true;
    setImmediate(this.tell);
  }

  private readonly tell = (): void => {
    this.scheduled = false;
    const listeners = this.listeners;
    this.listeners = [];
    for (const f of listeners) f();
  };
}

/**
 * Writes the gzip body of `stream` and ends the response: with a Content-Length when every member is in already,
 * else chunked, the members written as they come; a render that fails after the headers destroys the response
 * (the scraper sees a cut body, not a wrong one).
 *
 * The members that are in together go out as one write, so as one HTTP chunk. Node merges the writes of a corked
 * response into one chunk only once its headers are out, so the members of the first write went out as one chunk
 * each (about 5 KB), and a client that hands each chunk to its gunzip on its own (Node's) paid a trip to its thread
 * pool per member: the bench's Node scraper spent 21 ms of CPU on 0.9 MB of members sent from memory as one chunk
 * each, 14 ms as one chunk, as with a Content-Length. (In the bench's scrapes the first write holds the few members
 * of the small families only, so they were already within noise of the latter.) The copy costs about 0.1 ms a MB.
 */
export function writeGzipMembers(
  res: http.ServerResponse,
  headers: http.OutgoingHttpHeaders,
  stream: MemberStream,
): void {
  if (stream.done && stream.failure === undefined) {
    let length = 0;
    for (const m of stream.members) length += m.byteLength;
    res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': length });
  } else res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip' });
  let next = 0;
  const pump = (): void => {
    if (res.destroyed) return;
    const { members } = stream;
    if (next < members.length) {
      const batch = next === 0 ? members : members.slice(next);
      next = members.length;
      res.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    }
    if (stream.failure !== undefined) res.destroy();
    else if (stream.done) res.end();
    else stream.onChange(pump);
  };
  pump();
}

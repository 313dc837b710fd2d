/**
 * The buffers of text bodies, written into again once no response holds them: a 10k-series body is about 23 MB, and
 * a fresh one per scrape cost Node 24 about as much again as the render (new pages to fault in, and a full garbage
 * collection every two or three scrapes for the external memory: 29 ms of CPU per render against 15 ms into a
 * buffer written before).
 *
 * A body handed to a response is leased (`lease`) and given back when the response is closed (`release`); a body
 * anybody else got (`pin`: `renderPrometheus()`, the protobuf gzip path) is never written into again. The buffer of
 * a body whose leases all came back is kept through a WeakRef only: a garbage collection takes it back as it would
 * have taken the dead body, so the memory a scrape leaves behind is what it was (and the memory rows of the bench,
 * measured after collections, do not change).
 */
export class BodyLeases {
  private readonly leases = new Map<Buffer, number>();
  private readonly pinned = new WeakSet<Buffer>();
  private spare: WeakRef<Buffer> | undefined;

  /** A buffer to write the next text body into, if one is free (taken: nobody else gets it). */
  take(): Buffer | undefined {
    const spare = this.spare?.deref();
    this.spare = undefined;
    return spare;
  }

  lease(body: Buffer): Buffer {
    this.leases.set(body, (this.leases.get(body) ?? 0) + 1);
    return body;
  }

  pin(body: Buffer): Buffer {
    this.pinned.add(body);
    return body;
  }

  /** A response that leased `body` is closed (written, cut off or never written). */
  release(body: Buffer): void {
    const n = this.leases.get(body);
    if (n === undefined) return;
    if (n > 1) {
      this.leases.set(body, n - 1);
      return;
    }
    this.leases.delete(body);
    // Only a buffer of its own (not a slice of Node's small-buffer pool) and big enough to matter.
    if (this.pinned.has(body) || body.byteOffset !== 0 || body.buffer.byteLength < MIN_SPARE_BYTES) return;
    this.spare = new WeakRef(Buffer.from(body.buffer, 0, body.buffer.byteLength));
  }
}

/** Smaller bodies are cheap to allocate. */
const MIN_SPARE_BYTES = 1 << 20;

/**
 * The growable byte buffer both exposition writers write into (serialize.ts's text writer, pb-writer.ts's protobuf
 * writer): no string of the whole body is built, flattened and then encoded again for the socket. It doubles when
 * full, so a body costs O(log n) copies; render.ts sizes the first allocation from the last body.
 */
export class GrowableBuffer {
  buf: Buffer;
  pos = 0;
  constructor(size: number, into?: Buffer) {
    this.buf = into ?? Buffer.allocUnsafe(Math.max(size, 4096));
  }

  /** Makes room for `n` more bytes at `pos`. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

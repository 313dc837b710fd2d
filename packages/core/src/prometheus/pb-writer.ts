/**
 * A growable byte buffer for protobuf wire-format messages (proto2, as `io.prometheus.client` uses): varints, doubles,
 * strings and nested messages. A nested message is opened with a one-byte placeholder for its length and closed by
 * writing the length there, moving the body up when the length needs more than one varint byte, so no message is
 * sized in a first pass and no intermediate buffers are built.
 */

import { GrowableBuffer } from './byte-buffer.js';

/** Wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;

/** The field key of `field` with wire type `wire`: (field << 3) | wire (one varint byte for fields below 16). */
export function key(field: number, wire: number): number {
  return (field << 3) | wire;
}

/** Bytes a varint of the non-negative integer `v` (below 2^53) takes. */
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export class ProtoWriter extends GrowableBuffer {
  /** A non-negative integer below 2^53 as a varint (uint64 fields, lengths, keys). */
  varint(v: number): void {
    this.reserve(10);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 128) {
      // v % 128 without 32-bit truncation (counts may pass 2^31).
      buf[pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** The key of `field` with wire type `wire`, as a varint (fields from 16 on take two bytes). */
  tag(field: number, wire: number): void {
    const k = key(field, wire);
    this.reserve(2);
    if (k < 128) this.buf[this.pos++] = k;
    else this.varint(k);
  }

  /** A `double` field: its key and 8 little-endian bytes. */
  double(field: number, v: number): void {
    this.tag(field, FIXED64);
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A `uint64`/`int64` (non-negative) or `uint32` field. */
  uint(field: number, v: number): void {
    this.tag(field, VARINT);
    this.varint(v);
  }

  /** A `sint32`/`sint64` field (zigzag), for values within ±2^52. */
  sint(field: number, v: number): void {
    this.tag(field, VARINT);
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** A `string` field. */
  string(field: number, s: string): void {
    const start = this.open(field);
    this.reserve(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
    this.close(start);
  }

  /** Bytes written as they are (pre-encoded fields). */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Opens a length-delimited field (`field` 0: a bare length prefix, as `encoding=delimited` frames messages). */
  open(field: number): number {
    if (field !== 0) this.tag(field, LEN);
    this.reserve(1);
    const start = this.pos;
    this.buf[this.pos++] = 0;
    return start;
  }

  /** Closes the field opened at `start`: writes its length, moving the body when the length takes more than a byte. */
  close(start: number): void {
    const len = this.pos - start - 1;
    if (len < 128) {
      this.buf[start] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.reserve(extra);
    const buf = this.buf;
    buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    this.pos += extra;
    let v = len;
    let p = start;
    while (v >= 128) {
      buf[p++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    buf[p] = v;
  }
}

/** The encoded `label` fields (LabelPair{name=1, value=2}, field `field` of the enclosing message) of name/value pairs. */
export function encodeLabels(field: number, pairs: readonly (readonly [string, string])[]): Buffer {
  const w = new ProtoWriter(64);
  for (const [name, value] of pairs) {
    const start = w.open(field);
    w.string(1, name);
    w.string(2, value);
    w.close(start);
  }
  return Buffer.from(w.buf.subarray(0, w.pos));
}

import { expect } from 'chai';
import { StorageInputError } from '@tuist-telemetry/storage';
import { commandLabel, isNotFound } from '../src/aws-sdk.js';
import {
  batches,
  projectPrefix,
  validateExpiresIn,
  validateKey,
  validatePartNumber,
  validateParts,
} from '../src/validate.js';

describe('storage: input validation and helpers (pure)', () => {
  it('keys: 1..1024 UTF-8 bytes, counted in bytes not characters', () => {
    expect(validateKey('a'.repeat(1024))).to.have.length(1024);
    expect(validateKey('é'.repeat(512))).to.have.length(512); // 1024 bytes
    expect(() => validateKey('é'.repeat(512) + 'a')).to.throw(StorageInputError, /1025 bytes/);
    expect(() => validateKey('a'.repeat(1025))).to.throw(StorageInputError);
    expect(() => validateKey('')).to.throw(StorageInputError, /non-empty/);
    expect(() => validateKey(undefined)).to.throw(StorageInputError, /non-empty/);
    expect(validateKey('sp ace/"q"\n/ü')).to.equal('sp ace/"q"\n/ü');
  });

  it('project prefix: non-empty slug, and the prefix is a valid key', () => {
    expect(projectPrefix('tuist/ios')).to.equal('tuist/ios/');
    expect(() => projectPrefix('')).to.throw(StorageInputError, /projectSlug/);
    expect(() => projectPrefix('a'.repeat(1024))).to.throw(StorageInputError, /projectSlug is 1025 bytes/);
  });

  it('expiresIn: whole seconds from 1 to 604800, default 3600', () => {
    expect(validateExpiresIn(undefined)).to.equal(3600);
    expect(validateExpiresIn(1)).to.equal(1);
    expect(validateExpiresIn(604_800)).to.equal(604_800);
    for (const bad of [0, -1, 604_801, 0.5, NaN, Infinity, '60']) {
      expect(() => validateExpiresIn(bad), String(bad)).to.throw(StorageInputError, /expiresIn/);
    }
  });

  it('part numbers: whole numbers from 1 to 10000', () => {
    expect(validatePartNumber(1)).to.equal(1);
    expect(validatePartNumber(10_000)).to.equal(10_000);
    for (const bad of [0, 10_001, 1.5, -3, NaN, '1']) {
      expect(() => validatePartNumber(bad), String(bad)).to.throw(StorageInputError, /partNumber/);
    }
  });

  it('parts: non-empty, valid numbers and ETags, no duplicates; sorted by part number', () => {
    expect(
      validateParts([
        { partNumber: 3, etag: 'c' },
        { partNumber: 1, etag: 'a' },
      ]),
    ).to.deep.equal([
      { partNumber: 1, etag: 'a' },
      { partNumber: 3, etag: 'c' },
    ]);
    expect(() => validateParts([])).to.throw(StorageInputError, /non-empty/);
    expect(() => validateParts(undefined)).to.throw(StorageInputError, /non-empty/);
    expect(() => validateParts([{ partNumber: 1, etag: '' }])).to.throw(StorageInputError, /parts\[0\]\.etag/);
    expect(() => validateParts([null])).to.throw(StorageInputError, /parts\[0\]\.partNumber/);
  });

  it('batches of at most n', () => {
    const keys = Array.from({ length: 2001 }, (_, i) => i);
    expect(batches(keys, 1000).map((b) => b.length)).to.deep.equal([1000, 1000, 1]);
    expect(batches([], 1000)).to.deep.equal([]);
  });

  it('isNotFound: NotFound, NoSuchKey or a bare 404; not NoSuchBucket', () => {
    expect(isNotFound({ name: 'NotFound' })).to.equal(true);
    expect(isNotFound({ name: 'NoSuchKey' })).to.equal(true);
    expect(isNotFound({ name: 'Unknown', $metadata: { httpStatusCode: 404 } })).to.equal(true);
    expect(isNotFound({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })).to.equal(false);
    expect(isNotFound({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).to.equal(false);
    expect(isNotFound(undefined)).to.equal(false);
  });

  it('command label: the S3 operation name', () => {
    expect(commandLabel('HeadObjectCommand')).to.equal('HeadObject');
    expect(commandLabel('ListObjectsV2Command')).to.equal('ListObjectsV2');
    expect(commandLabel(undefined)).to.equal('unknown');
    expect(commandLabel('Command')).to.equal('Command');
  });
});

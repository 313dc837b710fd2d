import { expect } from 'chai';
import type { DiagLogger } from '@opentelemetry/api';
import { RateLimitedLogger } from '../../src/diag/index.js';
import {
  attributeText,
  labelValueProblem,
  MAX_LABEL_VALUE_LENGTH,
  normaliseLabelValue,
  normaliseReported,
  truncateLabelValue,
} from '../../src/labels/values.js';

/**
 * The label-value functions one by one (issue 26: survivors of the labels mutation shard): what each kind of value
 * becomes, which warning it deserves and what that warning says, where a long value is cut.
 */

function warnings(): { warn: RateLimitedLogger; lines: string[] } {
  const lines: string[] = [];
  const keep = (m: string) => lines.push(m);
  const log: DiagLogger = { error: keep, warn: keep, info() {}, debug() {}, verbose() {} };
  return { warn: new RateLimitedLogger(log), lines };
}

describe('core: label values, one function at a time (issue 26)', () => {
  it('the problem of each kind of value, for required and optional labels', () => {
    const long = 'x'.repeat(MAX_LABEL_VALUE_LENGTH + 1);
    const cases: [unknown, string | undefined, string | undefined][] = [
      ['ok', undefined, undefined],
      ['x'.repeat(MAX_LABEL_VALUE_LENGTH), undefined, undefined],
      [long, 'too-long', 'too-long'],
      ['a\ud800b', 'ill-formed', 'ill-formed'],
      [undefined, 'missing', undefined],
      [null, 'missing', undefined],
      [{}, 'invalid', 'invalid'],
      [[1], 'invalid', 'invalid'],
      [() => 1, 'invalid', 'invalid'],
      [Symbol('s'), 'invalid', 'invalid'],
      [3, undefined, undefined],
      [true, undefined, undefined],
      [10n, undefined, undefined],
    ];
    for (const [raw, required, optional] of cases) {
      expect(labelValueProblem(raw, false), String(typeof raw)).to.equal(required);
      expect(labelValueProblem(raw, true), String(typeof raw)).to.equal(optional);
    }
  });

  it('each warning names the metric, the label and what was done', () => {
    const { warn, lines } = warnings();
    const long = 'y'.repeat(MAX_LABEL_VALUE_LENGTH + 5);
    expect(normaliseReported(long, false, 'm', 'l', warn)).to.equal('y'.repeat(MAX_LABEL_VALUE_LENGTH));
    expect(normaliseReported('a\udc00', false, 'm', 'l', warn)).to.equal('a\ufffd');
    expect(normaliseReported(undefined, false, 'm', 'l', warn)).to.equal('unknown');
    expect(normaliseReported(undefined, true, 'm', 'l', warn)).to.equal('');
    expect(normaliseReported({}, false, 'm', 'l', warn)).to.equal('invalid');
    expect(normaliseReported(7, false, 'm', 'l', warn)).to.equal('7');
    expect([normaliseLabelValue(null, false), normaliseLabelValue(null, true)]).to.deep.equal(['unknown', '']);
    expect(lines).to.deep.equal([
      `m: a value of label "l" is longer than ${MAX_LABEL_VALUE_LENGTH} characters; it was truncated`,
      'm: a value of label "l" has an unpaired UTF-16 surrogate; it was replaced by U+FFFD, as the exposition encodes it',
      'm: label "l" is missing; recorded as "unknown"',
      'm: label "l" got a object; label values must be strings, numbers or booleans (recorded as "invalid")',
    ]);
    // Once per kind: the same problems on another label of another metric are not told again, except the missing
    // and invalid ones, which are per metric and label.
    normaliseReported(long, false, 'n', 'k', warn);
    normaliseReported('b\ud800', false, 'n', 'k', warn);
    normaliseReported(null, false, 'n', 'k', warn);
    normaliseReported(Symbol('s'), false, 'n', 'k', warn);
    expect(lines.slice(4)).to.deep.equal([
      'n: label "k" is missing; recorded as "unknown"',
      'n: label "k" got a symbol; label values must be strings, numbers or booleans (recorded as "invalid")',
    ]);
  });

  it('a long value is cut at the limit, one unit earlier when a surrogate pair would be split', () => {
    const pair = '\ud83d\ude00';
    const before = 'a'.repeat(MAX_LABEL_VALUE_LENGTH - 1);
    expect(truncateLabelValue(before + pair + 'z')).to.equal(before);
    expect(truncateLabelValue('a'.repeat(MAX_LABEL_VALUE_LENGTH - 2) + pair + 'z')).to.equal(
      'a'.repeat(MAX_LABEL_VALUE_LENGTH - 2) + pair,
    );
    // A low surrogate or U+DBFF/U+DC00 at the cut: only a high half (U+D800 to U+DBFF) moves the cut.
    expect(truncateLabelValue(before + '\udc00' + 'zz')).to.have.length(MAX_LABEL_VALUE_LENGTH);
    expect(truncateLabelValue(before + '\ud800\udc00z')).to.equal(before);
    expect(truncateLabelValue(before + '\udbff\udfffz')).to.equal(before);
    expect(truncateLabelValue(before + '\ud7ffzz')).to.equal(before + '\ud7ff');
    expect(normaliseLabelValue(before + '\udbff\udfffz', false)).to.equal(before);
  });

  it('attribute values as a label carries them: numbers as String spells them, bigints, arrays as JSON', () => {
    expect(attributeText('s')).to.equal('s');
    expect(attributeText(1.5)).to.equal('1.5');
    expect(attributeText(Number.NaN)).to.equal('NaN');
    expect(attributeText(Number.POSITIVE_INFINITY)).to.equal('Infinity');
    expect(attributeText(false)).to.equal('false');
    expect(attributeText(10n)).to.equal('10');
    expect(attributeText(['a', 1, true])).to.equal('["a",1,true]');
    expect(attributeText(undefined)).to.equal('invalid');
    expect(attributeText(Symbol('s'))).to.equal('invalid');
    expect(
      attributeText({
        toJSON() {
          throw new Error('no');
        },
      }),
    ).to.equal('invalid');
  });
});

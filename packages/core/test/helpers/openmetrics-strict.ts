/**
 * A strict checker of OpenMetrics 1.0 text (the ABNF and the MUSTs of the specification's text format), for tests:
 * `openMetricsProblems(body)` lists what is wrong, with line numbers; `expectStrictOpenMetrics` throws on any.
 * Stricter than Prometheus 2.42's parser in what it checks (families not interleaved, no duplicate series, histogram
 * buckets cumulative with +Inf equal to _count, exemplars only where OpenMetrics allows them and at most 128
 * characters of labels), so that a body it accepts is one every OpenMetrics consumer reads.
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const REAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const NUMBER = /^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity)|nan)$/i;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'stateset', 'info', 'summary', 'unknown']);

/** The sample-name suffixes each family type allows ('' is the family name itself). */
const SUFFIXES: Record<string, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  stateset: [''],
  info: ['_info'],
  summary: ['', '_count', '_sum', '_created'],
  unknown: [''],
};

interface Family {
  name: string;
  type: string;
  seen: Set<string>;
  /** Histogram buckets by their label set without `le`: [le, count][] in order, and _count. */
  buckets: Map<string, { les: [number, number][]; count?: number }>;
  samples: number;
  descriptors: Set<string>;
}

/** Reads `{a="x",b="y"}` at s[i] ('{' there); returns the pairs and the index after '}', or a problem. */
function readLabels(s: string, i: number): { labels: [string, string][]; end: number } | string {
  const labels: [string, string][] = [];
  i++;
  if (s[i] === '}') return { labels, end: i + 1 };
  for (;;) {
    const eq = s.indexOf('=', i);
    if (eq < 0) return 'label without "="';
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name)) return `invalid label name ${JSON.stringify(name)}`;
    if (s[eq + 1] !== '"') return `label ${name}: value not quoted`;
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = s[j];
      if (c === undefined) return `label ${name}: unterminated value`;
      if (c === '"') break;
      if (c === '\\') {
        const n = s[j + 1];
        if (n !== '\\' && n !== '"' && n !== 'n') return `label ${name}: invalid escape \\${n ?? ''}`;
        value += n === 'n' ? '\n' : n;
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    if (labels.some(([n]) => n === name)) return `duplicate label ${name}`;
    labels.push([name, value]);
    j++;
    if (s[j] === '}') return { labels, end: j + 1 };
    if (s[j] !== ',') return `expected "," or "}" after label ${name}`;
    i = j + 1;
  }
}

function parseNumber(text: string): number {
  const t = text.toLowerCase();
  if (t === 'nan') return NaN;
  if (/^[+]?inf(inity)?$/.test(t)) return Infinity;
  if (/^-inf(inity)?$/.test(t)) return -Infinity;
  return Number(text);
}

/** Every violation of OpenMetrics 1.0 text in `body` ('' problems: a valid exposition). */
export function openMetricsProblems(body: string): string[] {
  const problems: string[] = [];
  if (!body.endsWith('# EOF\n') && !body.endsWith('# EOF')) problems.push('the exposition does not end with "# EOF"');
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  /** Families already closed: name -> type. */
  const done = new Map<string, string>();
  let fam: Family | undefined;
  const open = (name: string, type: string, line: number): Family => {
    if (fam) done.set(fam.name, fam.type);
    if (done.has(name)) problems.push(`line ${line}: family ${name} appears twice (families must not be interleaved)`);
    fam = { name, type, seen: new Set(), buckets: new Map(), samples: 0, descriptors: new Set() };
    return fam;
  };
  const closeHistogram = (f: Family | undefined): void => {
    if (!f || (f.type !== 'histogram' && f.type !== 'gaugehistogram')) return;
    for (const [key, b] of f.buckets) {
      const les = b.les;
      if (les.length === 0 || les[les.length - 1]![0] !== Infinity) problems.push(`${f.name}{${key}}: no +Inf bucket`);
      for (let k = 1; k < les.length; k++) {
        if (!(les[k]![0] > les[k - 1]![0])) problems.push(`${f.name}{${key}}: le values not increasing`);
        if (!(les[k]![1] >= les[k - 1]![1])) problems.push(`${f.name}{${key}}: bucket counts not cumulative`);
      }
      if (b.count !== undefined && les.length > 0 && les[les.length - 1]![1] !== b.count)
        problems.push(`${f.name}{${key}}: +Inf bucket differs from _count`);
    }
  };
  lines.forEach((line, idx) => {
    const n = idx + 1;
    if (idx === lines.length - 1) {
      if (line !== '# EOF') problems.push(`line ${n}: last line is not "# EOF"`);
      return;
    }
    if (line === '# EOF') return void problems.push(`line ${n}: "# EOF" before the end`);
    if (line === '') return void problems.push(`line ${n}: empty line`);
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return void problems.push(`line ${n}: comment that is not HELP, TYPE, UNIT or EOF: ${line.slice(0, 80)}`);
      const [, kind, name, rest = ''] = m as unknown as [string, string, string, string?];
      if (!METRIC_NAME.test(name)) problems.push(`line ${n}: invalid metric name ${name}`);
      let f = fam?.name === name ? fam : undefined;
      if (f && f.samples > 0) problems.push(`line ${n}: ${kind} of ${name} after its samples`);
      if (!f) {
        closeHistogram(fam);
        f = open(name, 'unknown', n);
      }
      if (f.descriptors.has(kind!)) problems.push(`line ${n}: second ${kind} for ${name}`);
      f.descriptors.add(kind!);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) problems.push(`line ${n}: unknown type ${JSON.stringify(rest)}`);
        f.type = rest;
      } else if (kind === 'HELP') {
        if (/\\(?![\\n"])/.test(rest)) problems.push(`line ${n}: invalid escape in HELP`);
      } else if (kind === 'UNIT') {
        if (rest !== '' && !name.endsWith('_' + rest))
          problems.push(`line ${n}: family ${name} does not end in its unit _${rest}`);
      }
      return;
    }
    // A sample: name [labels] SP value [SP timestamp] [SP # SP labels SP value [SP timestamp]]
    const nm = /^[^{ ]+/.exec(line);
    if (!nm) return void problems.push(`line ${n}: no metric name`);
    const sampleName = nm[0];
    if (!METRIC_NAME.test(sampleName)) problems.push(`line ${n}: invalid metric name ${sampleName}`);
    let i = sampleName.length;
    let labels: [string, string][] = [];
    if (line[i] === '{') {
      const r = readLabels(line, i);
      if (typeof r === 'string') return void problems.push(`line ${n}: ${r}`);
      labels = r.labels;
      i = r.end;
    }
    let rest = line.slice(i);
    let exemplar: string | undefined;
    const hash = rest.indexOf(' # ');
    if (hash >= 0) {
      exemplar = rest.slice(hash + 3);
      rest = rest.slice(0, hash);
    }
    const parts = rest.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3)
      return void problems.push(`line ${n}: expected " value [timestamp]": ${rest.slice(0, 80)}`);
    if (!NUMBER.test(parts[1]!)) problems.push(`line ${n}: invalid value ${JSON.stringify(parts[1])}`);
    if (parts.length === 3 && !REAL.test(parts[2]!))
      problems.push(`line ${n}: invalid timestamp ${JSON.stringify(parts[2])}`);
    const value = parseNumber(parts[1]!);
    // Which family: the current one if the name fits it, else a new family of type unknown named by the sample.
    const fits = (f: Family): string | undefined => SUFFIXES[f.type]?.find((s) => sampleName === f.name + s);
    let suffix = fam ? fits(fam) : undefined;
    if (!fam || suffix === undefined) {
      for (const [name, type] of done) {
        if (SUFFIXES[type]?.some((s) => sampleName === name + s))
          problems.push(
            `line ${n}: ${sampleName} belongs to family ${name}, which appeared earlier (families must not be interleaved)`,
          );
      }
      closeHistogram(fam);
      open(sampleName, 'unknown', n);
      suffix = '';
    }
    const f = fam!;
    f.samples++;
    const key =
      sampleName +
      '{' +
      [...labels]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',') +
      '}';
    if (f.seen.has(key)) problems.push(`line ${n}: duplicate series ${key}`);
    f.seen.add(key);
    if ((f.type === 'counter' && suffix === '_total') || suffix === '_count' || suffix === '_bucket') {
      if (!(value >= 0)) problems.push(`line ${n}: ${sampleName} must be a non-negative number, is ${parts[1]}`);
    }
    if (f.type === 'histogram' || f.type === 'gaugehistogram') {
      const others = labels
        .filter(([k]) => k !== 'le')
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .sort()
        .join(',');
      const b = f.buckets.get(others) ?? { les: [] };
      f.buckets.set(others, b);
      if (suffix === '_bucket') {
        const le = labels.find(([k]) => k === 'le')?.[1];
        if (le === undefined || !NUMBER.test(le)) problems.push(`line ${n}: bucket without a numeric le`);
        else b.les.push([parseNumber(le), value]);
      } else if (suffix === '_count' || suffix === '_gcount') b.count = value;
    }
    if (exemplar !== undefined) {
      if (
        !(
          (f.type === 'counter' && suffix === '_total') ||
          ((f.type === 'histogram' || f.type === 'gaugehistogram') && suffix === '_bucket')
        )
      ) {
        problems.push(
          `line ${n}: exemplar on ${sampleName} (only counter _total and histogram _bucket samples carry one)`,
        );
      }
      if (exemplar[0] !== '{') return void problems.push(`line ${n}: exemplar without labels`);
      const r = readLabels(exemplar, 0);
      if (typeof r === 'string') return void problems.push(`line ${n}: exemplar ${r}`);
      const chars = r.labels.reduce((sum, [k, v]) => sum + [...k].length + [...v].length, 0);
      if (chars > 128) problems.push(`line ${n}: exemplar labels are ${chars} characters (at most 128)`);
      const ex = exemplar.slice(r.end).split(' ');
      if (ex[0] !== '' || ex.length < 2 || ex.length > 3)
        problems.push(`line ${n}: exemplar expects " value [timestamp]"`);
      else {
        if (!NUMBER.test(ex[1]!)) problems.push(`line ${n}: invalid exemplar value ${JSON.stringify(ex[1])}`);
        if (ex.length === 3 && !REAL.test(ex[2]!))
          problems.push(`line ${n}: invalid exemplar timestamp ${JSON.stringify(ex[2])}`);
      }
    }
  });
  closeHistogram(fam);
  return problems;
}

/** Throws, listing the first problems, unless `body` is valid OpenMetrics 1.0 text. */
export function expectStrictOpenMetrics(body: string): void {
  const problems = openMetricsProblems(body);
  if (problems.length > 0)
    throw new Error(`not valid OpenMetrics 1.0 (${problems.length} problems):\n${problems.slice(0, 10).join('\n')}`);
}

/**
 * A small, strict parser for the Prometheus text format 0.0.4, written for the tests: it checks what Prometheus
 * itself would reject (bad names, bad escapes, samples of an undeclared family, duplicate TYPE lines).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: string | undefined;
  help: string | undefined;
  samples: Sample[];
}
export type Exposition = Map<string, Family>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function familyOf(sample: string, families: Exposition): string {
  if (families.has(sample)) return sample;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      if (families.get(base)?.type === 'histogram') return base;
    }
  }
  return sample;
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

export function parseExposition(text: string): Exposition {
  const families: Exposition = new Map();
  const get = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: undefined, help: undefined, samples: [] }));
    return f;
  };
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('exposition must end with a newline');
  for (let n = 0; n < lines.length - 1; n++) {
    const line = lines[n]!;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue;
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${n + 1}: bad metric name ${name}`);
      const f = get(name);
      if (kind === 'TYPE') {
        if (f.type !== undefined) throw new Error(`line ${n + 1}: second TYPE for ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`line ${n + 1}: bad type ${rest}`);
        f.type = rest;
      } else f.help = unescapeHelp(rest);
      continue;
    }
    // name{labels} value
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    if (!NAME.test(name)) throw new Error(`line ${n + 1}: bad sample name ${JSON.stringify(name)}`);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        let j = i;
        while (line[j] !== '=') {
          if (j >= line.length) throw new Error(`line ${n + 1}: unterminated label set`);
          j++;
        }
        const lname = line.slice(i, j);
        if (!LABEL.test(lname)) throw new Error(`line ${n + 1}: bad label name ${lname}`);
        if (line[j + 1] !== '"') throw new Error(`line ${n + 1}: label value must be quoted`);
        j += 2;
        let value = '';
        for (;;) {
          const c = line[j];
          if (c === undefined) throw new Error(`line ${n + 1}: unterminated label value`);
          if (c === '"') break;
          if (c === '\\') {
            const e = line[j + 1];
            if (e === '\\') value += '\\';
            else if (e === '"') value += '"';
            else if (e === 'n') value += '\n';
            else throw new Error(`line ${n + 1}: bad escape \\${e}`);
            j += 2;
          } else {
            value += c;
            j++;
          }
        }
        if (lname in labels) throw new Error(`line ${n + 1}: duplicate label ${lname}`);
        labels[lname] = value;
        j++;
        if (line[j] === ',') j++;
        i = j;
      }
      i++;
    }
    if (line[i] !== ' ') throw new Error(`line ${n + 1}: expected a space before the value`);
    const raw = line.slice(i + 1).split(' ')[0]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
    if (raw === '' || (Number.isNaN(value) && raw !== 'NaN')) throw new Error(`line ${n + 1}: bad value ${raw}`);
    const fam = families.get(familyOf(name, families));
    if (!fam || fam.type === undefined) throw new Error(`line ${n + 1}: sample ${name} has no TYPE line before it`);
    fam.samples.push({ name, labels, value });
  }
  return families;
}

/** GET `url` and parse it; fails on a non-200 answer or a wrong Content-Type. */
export async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`scrape ${url}: HTTP ${res.status}`);
  const ct = res.headers.get('content-type');
  if (ct !== 'text/plain; version=0.0.4; charset=utf-8') throw new Error(`scrape ${url}: Content-Type ${ct}`);
  return parseExposition(await res.text());
}

function matches(sample: Sample, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(labels)) if (sample.labels[k] !== v) return false;
  return true;
}

/** Samples named `sampleName` whose labels include `labels`. */
export function samples(exp: Exposition, sampleName: string, labels: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (const f of exp.values()) for (const s of f.samples) if (s.name === sampleName && matches(s, labels)) out.push(s);
  return out;
}

/** The value of the one sample matching; throws when none or several match. */
export function value(exp: Exposition, sampleName: string, labels: Record<string, string> = {}): number {
  const found = samples(exp, sampleName, labels);
  if (found.length !== 1) throw new Error(`expected one ${sampleName}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

/** Sum of all matching samples (0 when none). */
export function sum(exp: Exposition, sampleName: string, labels: Record<string, string> = {}): number {
  return samples(exp, sampleName, labels).reduce((a, s) => a + s.value, 0);
}

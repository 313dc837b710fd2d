// The PromQL the dashboards are made of: rates over the Instance variable, and every query over a histogram in the
// two shapes Prometheus stores one in (classic `_bucket`/`_sum`/`_count` series, or one native histogram series),
// chosen by the Histograms variable.

/** The Instance variable as a label matcher. */
export const I = 'instance=~"$instance"';
/** The rate window: Grafana's `$__rate_interval` (at least four scrape intervals of the data source). */
export const R = '$__rate_interval';

/** `rate(metric{instance=~"$instance", sel}[$__rate_interval])` */
export const rate = (m, sel = '') => `rate(${m}{${[I, sel].filter(Boolean).join(',')}}[${R}])`;

/** `sum by (labels) (inner)`, or `sum(inner)` without labels. */
const sum = (labels, inner) => (labels.length ? `sum by (${labels.join(', ')}) (${inner})` : `sum(${inner})`);
const labelsOf = (by) => (by ? by.split(',').map((l) => l.trim()) : []);

/**
 * The Histograms variable (`$histograms`): which series the histogram queries read. Values are numbers so PromQL
 * can test them (`vector($histograms) >= 0`): `auto` runs both queries and keeps the native result where a series
 * is native, `classic` and `native` run one. Grafana shows the text, the query gets the value (custom variable
 * `text : value` pairs, Grafana 7.4 and later).
 */
export const HISTOGRAM_KINDS = [
  { text: 'auto', value: '0' },
  { text: 'classic', value: '-1' },
  { text: 'native', value: '1' },
];
export const HISTOGRAMS_VARIABLE = 'histograms';

/**
 * One expression (one legend) for both kinds: `native` runs the native query, `classic` the classic one, `auto` both,
 * `or` keeping the native result for label sets that have one.
 */
export function byKind(classic, native) {
  const v = `vector($${HISTOGRAMS_VARIABLE})`;
  return `(${native} and on() (${v} >= 0)) or (${classic} and on() (${v} <= 0))`;
}

/** The q-quantile of histogram `m`, by the comma-separated labels `by`. */
export function quantile(q, m, by = '') {
  const labels = labelsOf(by);
  return byKind(
    `histogram_quantile(${q}, ${sum(['le', ...labels], rate(`${m}_bucket`))})`,
    `histogram_quantile(${q}, ${sum(labels, rate(m))})`,
  );
}
export const p50 = (m, by = '') => quantile(0.5, m, by);
export const p95 = (m, by = '') => quantile(0.95, m, by);

/** Observations per second of histogram `m` (its count's rate). */
export const countRate = (m, by = '') =>
  byKind(sum(labelsOf(by), rate(`${m}_count`)), `histogram_count(${sum(labelsOf(by), rate(m))})`);

/** The rate of histogram `m`'s sum of observations (e.g. seconds spent per second). */
export const sumRate = (m, by = '') =>
  byKind(sum(labelsOf(by), rate(`${m}_sum`)), `histogram_sum(${sum(labelsOf(by), rate(m))})`);

/** The mean observation of histogram `m` over the rate window. */
export function mean(m, by = '') {
  const labels = labelsOf(by);
  const native = sum(labels, rate(m));
  return byKind(
    `${sum(labels, rate(`${m}_sum`))} / ${sum(labels, rate(`${m}_count`))}`,
    `histogram_sum(${native}) / histogram_count(${native})`,
  );
}

// Panels and dashboards as Grafana's JSON model, from the compact definitions in tuist-dashboards.mjs and
// platform-dashboards.mjs: grid layout, targets, field config and the dashboard variables.
import { HISTOGRAM_KINDS, HISTOGRAMS_VARIABLE } from './promql.mjs';

/** One panel: `t` targets as [expr, legend]; `w`/`h` grid size. */
export const ts = (title, unit, t, { w = 12, h = 8, description, stack = false } = {}) => ({
  kind: 'timeseries',
  title,
  unit,
  t,
  w,
  h,
  description,
  stack,
});
export const stat = (title, unit, t, { w = 6, h = 4, description } = {}) => ({
  kind: 'stat',
  title,
  unit,
  t,
  w,
  h,
  description,
});
export const row = (title) => ({ kind: 'row', title });

export const datasource = { type: 'prometheus', uid: '${datasource}' };

function layout(panels) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let id = 1;
  return panels.map((p) => {
    if (p.kind === 'row') {
      if (x > 0) y += rowHeight;
      x = 0;
      rowHeight = 0;
      const panel = {
        id: id++,
        type: 'row',
        title: p.title,
        collapsed: false,
        gridPos: { h: 1, w: 24, x: 0, y },
        panels: [],
      };
      y += 1;
      return panel;
    }
    if (x + p.w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const gridPos = { h: p.h, w: p.w, x, y };
    x += p.w;
    rowHeight = Math.max(rowHeight, p.h);
    // Latency panels (a quantile over a histogram) show exemplars: dots that open the trace of a request in that
    // bucket (the data source's exemplarTraceIdDestinations, provisioning/datasources/prometheus.yml).
    const targets = p.t.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource,
      expr,
      legendFormat,
      range: true,
      ...(expr.includes('histogram_quantile(') ? { exemplar: true } : {}),
    }));
    const base = { id: id++, type: p.kind, title: p.title, datasource, gridPos, targets };
    if (p.description) base.description = p.description;
    if (p.kind === 'stat') {
      return {
        ...base,
        fieldConfig: {
          defaults: {
            unit: p.unit,
            color: { mode: 'thresholds' },
            thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] },
          },
          overrides: [],
        },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          colorMode: 'value',
          graphMode: 'area',
          textMode: 'auto',
        },
      };
    }
    return {
      ...base,
      fieldConfig: {
        defaults: {
          unit: p.unit,
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: p.stack ? 30 : 10,
            showPoints: 'never',
            stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
          },
        },
        overrides: [],
      },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    };
  });
}

/**
 * The Histograms variable: `auto` (the default) reads native histogram series where there are some and the classic
 * `_bucket`/`_sum`/`_count` series elsewhere; `classic` or `native` force one (a fleet where only some instances
 * serve native histograms, or a Prometheus that keeps both).
 */
function histogramsVariable() {
  const [auto] = HISTOGRAM_KINDS;
  return {
    name: HISTOGRAMS_VARIABLE,
    label: 'Histograms',
    description:
      'auto: native histograms where Prometheus stores them (TUIST_TELEMETRY_NATIVE_HISTOGRAMS=true, scraped with native histograms on), else classic buckets; classic or native: only those.',
    type: 'custom',
    query: HISTOGRAM_KINDS.map((k) => `${k.text} : ${k.value}`).join(','),
    current: { selected: true, text: auto.text, value: auto.value },
    options: HISTOGRAM_KINDS.map((k) => ({ ...k, selected: k === auto })),
    multi: false,
    includeAll: false,
    hide: 0,
    skipUrlSync: false,
  };
}

/** A dashboard's JSON from its compact definition. */
export function dashboard(d) {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['tuist', 'tuist-telemetry'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          regex: '',
          options: [],
        },
        {
          name: 'instance',
          label: 'Instance',
          type: 'query',
          datasource,
          query: { query: 'label_values(tuist_application_info, instance)', refId: 'instance' },
          definition: 'label_values(tuist_application_info, instance)',
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
          sort: 1,
          hide: 0,
          options: [],
        },
        histogramsVariable(),
      ],
    },
    annotations: { list: [] },
    links: [
      {
        title: 'Tuist dashboards',
        type: 'dashboards',
        tags: ['tuist-telemetry'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
      },
    ],
    panels: layout(d.panels),
  };
}

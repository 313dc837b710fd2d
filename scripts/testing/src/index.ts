export * from './prom.js';
export * from './services.js';
export * from './prometheus.js';

export * from './prom.js';
export * from './services.js';
export * from './prometheus.js';
export * from './s3.js';
export * from './postgres.js';
export * from './trace-receiver.js';
export * from './child.js';

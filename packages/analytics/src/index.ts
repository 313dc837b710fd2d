export { createAnalytics } from './analytics.js';
export type { Analytics } from './analytics.js';
export { AnalyticsConfigError } from './config.js';
export type {
  AnalyticsMiddleware,
  AnalyticsOptions,
  AnalyticsUser,
  CaptureInput,
  GroupInput,
  GroupRef,
  Groups,
  IdentifyInput,
  MiddlewareOptions,
  OrganizationCreatedInput,
  PageSection,
  PageviewInput,
  PreviewEventInput,
  RequestLike,
  RequestUser,
  ResponseLike,
  ServerEventInput,
  SnippetOptions,
  TokenRefreshErrorInput,
  UserEventInput,
} from './types.js';

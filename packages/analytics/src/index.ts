export { Analytics, createAnalytics } from './analytics.js';
export { AnalyticsConfigError } from './config.js';
export { TUIST_EVENTS, DROPPED_METRIC } from './events.js';
export type { TuistEventName } from './events.js';
export { PAGE_SECTIONS, defaultSectionFor, inlineScriptJson } from './utils.js';
export type {
  AnalyticsMiddleware,
  AnalyticsOptions,
  AnalyticsUser,
  CaptureInput,
  DropReason,
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

/** The Tuist server's own event names, as its typed helpers send them. */
export const TUIST_EVENTS = {
  userCreated: 'user_create',
  userAuthenticated: 'user_authenticate',
  organizationCreated: 'organization_create',
  previewUploaded: 'preview_upload',
  previewDownloaded: 'preview_download',
  tokenRefreshError: 'authentication_token_refresh_error',
} as const;

export type TuistEventName = (typeof TUIST_EVENTS)[keyof typeof TUIST_EVENTS];

/** The metric that counts analytics events that never reached PostHog, by reason. */
export const DROPPED_METRIC = 'tuist_analytics_events_dropped_total';

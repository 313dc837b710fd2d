import type { GroupRef, PageSection, SnippetOptions } from './types.js';
import { htmlAttribute, inlineScriptJson } from './html.js';

/**
 * The inline loader (ES5, no interpolation: all data arrives as one escaped JSON argument). It loads posthog-js
 * (`array.js`, which defines `window.posthog`) asynchronously and, once loaded, initialises it as the Tuist server
 * did: identified-only person profiles; memory persistence for an anonymous visitor, `bootstrap.distinctID` for a
 * signed-in user. In `loaded` (before the first `$pageview`) it registers `page_section`, then identifies the user
 * (email), aliases the account name and sets the project and organization groups.
 */
const LOADER = `(function (c) {
  var s = document.createElement('script');
  s.async = true;
  s.src = c.src;
  if (c.nonce) s.nonce = c.nonce;
  s.onload = function () {
    var ph = window.posthog;
    if (!ph || typeof ph.init !== 'function') return;
    var o = {
      api_host: c.host,
      person_profiles: 'identified_only',
      loaded: function (p) {
        p.register({ page_section: c.section });
        if (!c.user) return;
        p.identify(c.user.id, c.user.email ? { email: c.user.email } : undefined);
        if (c.user.alias) p.alias(c.user.alias);
        if (c.project) p.group('project', c.project.id, c.project.props);
        if (c.organization) p.group('organization', c.organization.id, c.organization.props);
      }
    };
    if (c.user) o.bootstrap = { distinctID: c.user.id };
    else o.persistence = 'memory';
    if (c.nonce) {
      o.prepare_external_dependency_script = function (el) { el.nonce = c.nonce; return el; };
      o.prepare_external_dependency_stylesheet = function (el) { el.nonce = c.nonce; return el; };
    }
    ph.init(c.key, o);
  };
  (document.head || document.documentElement).appendChild(s);
})`;

export interface SnippetConfig {
  apiKey: string;
  host: string;
  scriptSrc: string;
}

function group(ref: GroupRef | undefined): { id: string; props: { name?: string } } | undefined {
  if (!ref || ref.id === undefined || ref.id === null || ref.id === '') return undefined;
  return { id: String(ref.id), props: ref.name !== undefined ? { name: String(ref.name) } : {} };
}

/** The `<script>` element that loads and initialises posthog-js; every value is escaped for an inline script. */
export function renderSnippet(config: SnippetConfig, options: SnippetOptions & { section: PageSection }): string {
  const u = options.user;
  const user =
    u && u.id !== undefined && u.id !== null && u.id !== ''
      ? {
          id: String(u.id),
          ...(u.email ? { email: String(u.email) } : {}),
          ...(u.accountName && String(u.accountName) !== String(u.id) ? { alias: String(u.accountName) } : {}),
        }
      : undefined;
  const data = {
    key: config.apiKey,
    host: config.host,
    src: options.scriptSrc ?? config.scriptSrc,
    section: options.section,
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...(user ? { user, project: group(options.project), organization: group(options.organization) } : {}),
  };
  const nonce = options.nonce ? ` nonce="${htmlAttribute(options.nonce)}"` : '';
  return `<script${nonce}>${LOADER}(${inlineScriptJson(data)});</script>`;
}

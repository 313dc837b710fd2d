// What goes into the page's HTML: where posthog-js is loaded from, and values escaped for an inline `<script>` or an
// attribute.

/**
 * Where posthog-js is loaded from by default: PostHog Cloud serves it from its assets host
 * (`eu.i.posthog.com` → `eu-assets.i.posthog.com`), a self-hosted PostHog from its own `/static/array.js`.
 */
export function defaultScriptSrc(host: string): string {
  const url = new URL(host);
  if (url.hostname.endsWith('.i.posthog.com'))
    url.hostname = url.hostname.replace(/\.i\.posthog\.com$/, '-assets.i.posthog.com');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/static/array.js`;
}

const SCRIPT_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON that is safe inside an inline `<script>`: `<`, `>`, `&`, U+2028 and U+2029 are written as `\uXXXX` escapes, so
 * no value can close the element (`</script>`), open a comment (`<!--`) or end a JavaScript line.
 */
export function inlineScriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => SCRIPT_ESCAPES[c]!);
}

const ATTRIBUTE_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '"': '&quot;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
};

/** A value for a double-quoted HTML attribute. */
export function htmlAttribute(value: string): string {
  return value.replace(/[&"'<>]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

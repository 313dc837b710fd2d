/** The workspace's public packages (packed and published) and private ones (never packed), as folders from the root. */
export const PUBLIC_PACKAGES = ['core', 'storage', 'http', 'db', 'analytics'].map((p) => `packages/${p}`);
export const PRIVATE_PACKAGES = ['.', 'bench', 'scripts/testing', 'examples/tuist-server', 'examples/zero-code', 'examples/otel3-app'];

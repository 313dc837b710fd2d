/** The JavaScript runtime this process runs on, as the runtime metrics and the zero-code start tell them apart. */
export interface HostRuntime {
  /** `node`, `bun` or `deno`. */
  readonly name: 'node' | 'bun' | 'deno';
  /** The runtime's own version without a `v` (`20.20.2`, `1.4.5`, `2.9.6`); for Bun and Deno not their Node compatibility version. */
  readonly version: string;
}

/**
 * Which runtime runs this process. Bun and Deno both report a Node compatibility version in `process.version`
 * (`v26.3.0` for Bun 1.4.5 and Deno 2.9.6), so they are told apart by `process.versions.bun` / `.deno`.
 */
export function hostRuntime(versions: Readonly<Record<string, string | undefined>> = process.versions): HostRuntime {
  if (typeof versions.bun === 'string') return { name: 'bun', version: versions.bun };
  if (typeof versions.deno === 'string') return { name: 'deno', version: versions.deno };
  return { name: 'node', version: String(versions.node) };
}

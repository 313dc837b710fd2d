import { MAX_LABEL_VALUE_LENGTH, type LabelValue } from '../labels/values.js';

type Labels = Readonly<Record<string, LabelValue>>;

/** The store's trie: one Map per label, keyed by the stored (normalised) value; the last level holds the series. */
export type Node<S> = Map<string, Node<S> | S>;
/** Finds an existing series for plain string label values; `undefined` sends the caller down the general path. */
export type Lookup<S> = (labels: Labels | undefined) => S | undefined;

export const noLookup = (): undefined => undefined;

/**
 * Compiles a family's hit path: its label names become constant property names (`labels["name"]`), so each family
 * has its own monomorphic property loads instead of one megamorphic keyed load shared by every family (3 of those
 * cost more than the rest of a recording). It only answers when every value is a string within the length limit (or
 * an unset optional label) and the series already exists; everything else (new series, bounded labels, numbers,
 * normalisation, warnings) goes through `MetricFamily.resolve`'s general path, unchanged. It needs no well-formedness
 * check: the trie only ever holds normalised (well-formed) keys, so a string with an unpaired surrogate finds nothing
 * here and is normalised on the general path. Where code generation is
 * disallowed (`--disallow-code-generation-from-strings`) every call takes the general path.
 */
export function compileLookup<S>(root: Node<S>, names: readonly string[], optionalFrom: number): Lookup<S> {
  const last = names.length - 1;
  let body = 'return function lookup(labels) {\n  if (labels === undefined || labels === null) return undefined;\n';
  for (let i = 0; i <= last; i++) {
    body += `  let v${i} = labels[${JSON.stringify(names[i])}];\n`;
    if (i >= optionalFrom) body += `  if (v${i} === undefined || v${i} === null) v${i} = '';\n  else`;
    body += `  if (typeof v${i} !== 'string' || v${i}.length > max) return undefined;\n`;
  }
  body += '  let node = root;\n';
  for (let i = 0; i < last; i++) body += `  node = node.get(v${i});\n  if (node === undefined) return undefined;\n`;
  body += `  return node.get(v${last});\n};`;
  try {
    return new Function('root', 'max', body)(root, MAX_LABEL_VALUE_LENGTH) as Lookup<S>;
  } catch {
    return noLookup;
  }
}

/** What analytics remembers about one user, in memory only. */
export interface RememberedUser {
  /** Group keys by type (`project`, `organization`), attached to the user's later events as `$groups`. */
  groups: Record<string, string>;
  /** Fingerprint of the last identify (email, alias) sent for this user by the middleware. */
  identified?: string;
}

/**
 * A bounded least-recently-used map from distinct id to what is remembered about that user. Lookups refresh an
 * entry; beyond `max` entries the least recently seen user is forgotten. Nothing is written anywhere else.
 */
export class UserMemory {
  private readonly users = new Map<string, RememberedUser>();
  constructor(private readonly max: number) {}

  get size(): number {
    return this.users.size;
  }

  get(id: string): RememberedUser | undefined {
    const user = this.users.get(id);
    if (user !== undefined) {
      this.users.delete(id);
      this.users.set(id, user);
    }
    return user;
  }

  /** The entry for `id`, created when missing (and then the oldest entry is evicted beyond the bound). */
  upsert(id: string): RememberedUser {
    const existing = this.get(id);
    if (existing) return existing;
    const user: RememberedUser = { groups: {} };
    if (this.max === 0) return user;
    this.users.set(id, user);
    if (this.users.size > this.max) this.users.delete(this.users.keys().next().value!);
    return user;
  }

  clear(): void {
    this.users.clear();
  }
}

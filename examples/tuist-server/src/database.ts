/** The demo's tables (accounts and projects) and the queries the server makes. */
import type pg from 'pg';

export interface Project {
  id: number;
  account: string;
  name: string;
  /** `account/project`, the prefix of every object the project owns in storage. */
  slug: string;
}

export interface Account {
  id: number;
  name: string;
  kind: 'user' | 'organization';
  email: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('user', 'organization')),
  email text
);
CREATE TABLE IF NOT EXISTS projects (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  UNIQUE (account_id, name)
);`;

/** Creates the tables and the seed accounts/projects. Safe when several instances start at once on one database. */
export async function prepareDatabase(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7007)');
    await client.query(SCHEMA);
    await client.query(
      `INSERT INTO accounts (name, kind, email) VALUES
         ('tuist', 'organization', NULL), ('acme', 'organization', NULL),
         ('marek', 'user', 'marek@example.com'), ('pedro', 'user', 'pedro@example.com'), ('ana', 'user', 'ana@example.com')
       ON CONFLICT (name) DO NOTHING`,
    );
    await client.query(
      `INSERT INTO projects (account_id, name)
         SELECT a.id, p.name FROM accounts a JOIN (VALUES ('tuist', 'app'), ('tuist', 'cli'), ('acme', 'ios')) AS p(account, name) ON a.name = p.account
       ON CONFLICT (account_id, name) DO NOTHING`,
    );
  } finally {
    await client.query('SELECT pg_advisory_unlock(7007)').catch(() => {});
    client.release();
  }
}

export async function findProject(pool: pg.Pool, account: string, name: string): Promise<Project | undefined> {
  const r = await pool.query<{ id: string; account: string; name: string }>(
    'SELECT p.id, a.name AS account, p.name FROM projects p JOIN accounts a ON a.id = p.account_id WHERE a.name = $1 AND p.name = $2',
    [account, name],
  );
  const row = r.rows[0];
  return row
    ? { id: Number(row.id), account: row.account, name: row.name, slug: `${row.account}/${row.name}` }
    : undefined;
}

/** Creates (or finds) a project under an existing account. */
export async function createProject(pool: pg.Pool, account: string, name: string): Promise<Project | undefined> {
  await pool.query(
    'INSERT INTO projects (account_id, name) SELECT id, $2 FROM accounts WHERE name = $1 ON CONFLICT (account_id, name) DO NOTHING',
    [account, name],
  );
  return findProject(pool, account, name);
}

export async function deleteProject(pool: pg.Pool, id: number): Promise<void> {
  await pool.query('DELETE FROM projects WHERE id = $1', [id]);
}

export async function findAccount(pool: pg.Pool, name: string): Promise<Account | undefined> {
  const r = await pool.query<{ id: string; name: string; kind: 'user' | 'organization'; email: string | null }>(
    'SELECT id, name, kind, email FROM accounts WHERE name = $1',
    [name],
  );
  const row = r.rows[0];
  return row ? { id: Number(row.id), name: row.name, kind: row.kind, email: row.email } : undefined;
}

export async function countProjects(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ n: string }>('SELECT count(*) AS n FROM projects');
  return Number(r.rows[0]!.n);
}

export async function countAccounts(pool: pg.Pool): Promise<{ users: number; organizations: number }> {
  const r = await pool.query<{ users: string; organizations: string }>(
    `SELECT count(*) FILTER (WHERE kind = 'user') AS users, count(*) FILTER (WHERE kind = 'organization') AS organizations FROM accounts`,
  );
  return { users: Number(r.rows[0]!.users), organizations: Number(r.rows[0]!.organizations) };
}

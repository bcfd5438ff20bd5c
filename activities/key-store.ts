/**
 * The worker's store of deployment key plaintexts. Arkor shows a key's plaintext exactly once, in
 * the create response, and the design keeps secrets out of workflow history: so the promotion
 * activity writes it here, on the worker that created the key, and the workflow only ever sees a
 * key id and a path. This is where the operator takes the plaintext from.
 *
 * It is not what makes promotions idempotent: that is the key's label in Arkor (see
 * activities/promotion.ts). A store without a key's plaintext — another worker's key, a fresh
 * container, a lost disk — never makes the promotion revoke or re-issue that key.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A stored key, as read back. `path` names where it lives; it is not a secret. */
export interface StoredDeploymentKey {
  keyId: string;
  plaintext: string;
  /** Where the plaintext is stored (a file path for {@link fileKeyStore}). */
  path: string;
}

/** Where deployment key plaintexts live on the worker. */
export interface KeyStore {
  /**
   * Stores `plaintext` for key `keyId` of deployment `slug` and makes it the slug's newest key.
   * Idempotent: storing the same key again overwrites it. Returns where it was stored.
   */
  put(slug: string, keyId: string, plaintext: string): Promise<string>;
  /** Key `keyId` of `slug`, or the slug's newest key when `keyId` is omitted; undefined when absent. */
  get(slug: string, keyId?: string): Promise<StoredDeploymentKey | undefined>;
  /** The plaintext of the newest key stored for `slug` (what a caller of its edge presents). */
  keyFor(slug: string): Promise<string | undefined>;
}

/** A slug or key id that cannot be used as a file name (it would escape the store's directory). */
export class KeyStorePathError extends Error {
  override readonly name = 'KeyStorePathError';
}

/** Name of the worker environment variable holding the key store directory. */
export const KEY_STORE_DIR_ENV = 'ARKOR_KEY_STORE_DIR';

/** The key store directory: `$ARKOR_KEY_STORE_DIR`, default `~/.arkor-temporal/keys`. */
export function keyStoreDirFromEnv(env: NodeJS.ProcessEnv): string {
  const configured = env[KEY_STORE_DIR_ENV];
  return configured !== undefined && configured.trim() !== '' ? configured : join(homedir(), '.arkor-temporal', 'keys');
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The file naming a slug's newest key id (written after the key file, so it never dangles for long). */
const LATEST_FILE = 'latest';
const KEY_SUFFIX = '.key';
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

function safeName(value: string, what: string): string {
  // Slugs and ids come from the cloud-api and the input; a `..` or `/` must never reach a path.
  if (!SAFE_NAME.test(value) || value.includes('..'))
    throw new KeyStorePathError(`${what} is not usable as a file name`);
  return value;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Creates `dir` if needed and forces mode 0700 (mkdir's mode is filtered by the umask). */
async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** Writes `content` to `path` atomically with mode 0600: a reader sees the old file or the whole new one. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(FILE_MODE);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * A {@link KeyStore} on the local file system: `<dir>/<slug>/<keyId>.key` (mode 0600, directories
 * 0700), each written atomically (temporary file + rename), plus `<dir>/<slug>/latest` naming the
 * newest key id. Workers that share promotions should share `dir` (for example a mounted secret
 * volume), so that the plaintext is in one place; otherwise it is on the worker that created the
 * key, and a retry or a later run on another worker keeps using that key without it.
 */
export function fileKeyStore(dir: string): KeyStore {
  const slugDir = (slug: string): string => join(dir, safeName(slug, 'deployment slug'));
  const keyPath = (slug: string, keyId: string): string =>
    join(slugDir(slug), `${safeName(keyId, 'key id')}${KEY_SUFFIX}`);

  async function latestKeyId(slug: string): Promise<string | undefined> {
    const named = (await readIfExists(join(slugDir(slug), LATEST_FILE)))?.trim();
    if (named !== undefined && named !== '') return named;
    // No pointer (written by hand, or a crash between the key and the pointer): any stored key
    // beats none, and the verification falls back to a temporary key if it is not valid.
    let names: string[];
    try {
      names = await readdir(slugDir(slug));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return names
      .filter((name) => name.endsWith(KEY_SUFFIX))
      .sort()
      .at(-1)
      ?.slice(0, -KEY_SUFFIX.length);
  }

  async function get(slug: string, keyId?: string): Promise<StoredDeploymentKey | undefined> {
    const id = keyId ?? (await latestKeyId(slug));
    if (id === undefined) return undefined;
    const path = keyPath(slug, id);
    const plaintext = (await readIfExists(path))?.trim();
    return plaintext === undefined || plaintext === '' ? undefined : { keyId: id, plaintext, path };
  }

  return {
    async put(slug, keyId, plaintext) {
      const path = keyPath(slug, keyId);
      await ensurePrivateDir(dir);
      await ensurePrivateDir(slugDir(slug));
      await writeAtomically(path, `${plaintext}\n`);
      await writeAtomically(join(slugDir(slug), LATEST_FILE), `${keyId}\n`);
      return path;
    },
    get,
    async keyFor(slug) {
      return (await get(slug))?.plaintext;
    },
  };
}

import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ArkorClient, type ArkorConnection, type ArkorScope } from './client.js';
import { ArkorConfigError, CloudApiError } from './errors.js';

/** Production cloud-api base URL (docs/arkor-protocol.md §1.1). */
export const DEFAULT_CLOUD_API_URL = 'https://api.arkor.ai';

/** Options of {@link resolveArkorConnection}; every field defaults to the running process. */
export interface ResolveConnectionOptions {
  /** Environment to read. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Project directory holding `.arkor/state.json`. Default `process.cwd()`. */
  cwd?: string;
  /** Home directory holding `.arkor/credentials.json`. Default `os.homedir()`. */
  homeDir?: string;
  /** Fetch used for the project bootstrap and put into the connection. Default global `fetch`. */
  fetch?: typeof fetch;
}

/** The credentials file as far as we use it (docs/arkor-protocol.md §2.2); read as a raw JSON object. */
type CredentialsFile = Record<string, unknown>;

interface ResolvedToken {
  token: string;
  /** Where it came from: the env override, or the credentials file's mode. */
  source: 'env' | 'anon' | 'oauth';
  credentials?: CredentialsFile;
}

const CONFIG_HELP =
  'Set ARKOR_TOKEN, ARKOR_ORG_SLUG and ARKOR_PROJECT_SLUG (services), or log in with the arkor CLI ' +
  'so that ~/.arkor/credentials.json exists and run from a project directory with .arkor/state.json.';

/**
 * Resolves base URL, token and org/project scope the way the Arkor SDK does (docs/arkor-protocol.md §1.1,
 * §2), with plain environment overrides for services:
 *
 * - base URL: `ARKOR_CLOUD_API_URL` when defined (even empty; trailing slashes stripped), else
 *   the credentials file's `arkorCloudApiUrl` (only when the token comes from that file), else
 *   `https://api.arkor.ai`;
 * - token: `ARKOR_TOKEN`, else `~/.arkor/credentials.json` (`token` of anonymous credentials,
 *   `accessToken` of OAuth ones; an expired OAuth token is an error: there is no refresh);
 * - scope: `ARKOR_ORG_SLUG` + `ARKOR_PROJECT_SLUG` (both or neither), else
 *   `<cwd>/.arkor/state.json` (for anonymous credentials only if its org matches), else, for
 *   anonymous credentials only, a project is bootstrapped in their org and state.json written;
 * - `ARKOR_DEPLOYMENT_URL_TEMPLATE` → `deploymentUrlTemplate` (must contain `{slug}`).
 *
 * Unlike the SDK, this never mints an anonymous identity (`POST /v1/auth/anonymous`) when no
 * credentials exist: a service silently creating a throwaway identity would train under an org
 * nobody can see. It throws {@link ArkorConfigError} instead. Error messages never contain the token.
 */
export async function resolveArkorConnection(options: ResolveConnectionOptions = {}): Promise<ArkorConnection> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const homeDir = options.homeDir ?? homedir();

  const resolved = await resolveToken(env, homeDir);
  const baseUrl = resolveBaseUrl(env, resolved.source === 'env' ? undefined : resolved.credentials);
  const deploymentUrlTemplate = resolveDeploymentUrlTemplate(env);
  const scope = await resolveScope(env, cwd, resolved, baseUrl, options.fetch);
  return {
    baseUrl,
    token: resolved.token,
    scope,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(deploymentUrlTemplate !== undefined ? { deploymentUrlTemplate } : {}),
  };
}

function resolveBaseUrl(env: NodeJS.ProcessEnv, credentials: CredentialsFile | undefined): string {
  const fromEnv = env.ARKOR_CLOUD_API_URL;
  if (fromEnv !== undefined) return fromEnv.replace(/\/+$/, '');
  const fromCredentials = credentials?.arkorCloudApiUrl;
  if (typeof fromCredentials === 'string') return fromCredentials.replace(/\/+$/, '');
  return DEFAULT_CLOUD_API_URL;
}

function resolveDeploymentUrlTemplate(env: NodeJS.ProcessEnv): string | undefined {
  const template = env.ARKOR_DEPLOYMENT_URL_TEMPLATE;
  if (template === undefined || template === '') return undefined;
  if (!template.includes('{slug}')) {
    throw new ArkorConfigError(
      `ARKOR_DEPLOYMENT_URL_TEMPLATE must contain "{slug}", e.g. https://{slug}.arkor.app/v1 (got "${template}").`,
    );
  }
  return template;
}

async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // Absent → "no file"; any other read error (EACCES, EISDIR, …) is re-thrown (docs/arkor-protocol.md §2.1).
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function resolveToken(env: NodeJS.ProcessEnv, homeDir: string): Promise<ResolvedToken> {
  const fromEnv = env.ARKOR_TOKEN;
  if (fromEnv !== undefined) {
    if (fromEnv.trim() === '')
      throw new ArkorConfigError('ARKOR_TOKEN is set but empty; set it to an Arkor API token or unset it.');
    return { token: fromEnv, source: 'env' };
  }
  const path = join(homeDir, '.arkor', 'credentials.json');
  const raw = await readJsonFile(path);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ArkorConfigError(
      `No Arkor credentials: ARKOR_TOKEN is not set and ${path} is missing or not JSON. ${CONFIG_HELP}`,
    );
  }
  const credentials = raw as CredentialsFile;
  if (credentials.mode === 'anon') {
    if (typeof credentials.token !== 'string' || credentials.token === '') {
      throw new ArkorConfigError(`${path} (anonymous credentials) has no "token". ${CONFIG_HELP}`);
    }
    return { token: credentials.token, source: 'anon', credentials };
  }
  if (credentials.mode === 'oauth') {
    if (typeof credentials.accessToken !== 'string' || credentials.accessToken === '') {
      throw new ArkorConfigError(
        `${path} (OAuth credentials) has no "accessToken". Log in again with the arkor CLI, or set ARKOR_TOKEN.`,
      );
    }
    // expiresAt is Unix seconds; there is no refresh, so an expired token would only yield 401s.
    if (typeof credentials.expiresAt === 'number' && credentials.expiresAt * 1000 <= Date.now()) {
      const when = new Date(credentials.expiresAt * 1000).toISOString();
      throw new ArkorConfigError(
        `The OAuth access token in ${path} expired at ${when}. Log in again with the arkor CLI, or set ARKOR_TOKEN.`,
      );
    }
    return { token: credentials.accessToken, source: 'oauth', credentials };
  }
  throw new ArkorConfigError(`${path} has an unknown "mode" (expected "anon" or "oauth"). ${CONFIG_HELP}`);
}

interface ProjectState {
  orgSlug: string;
  projectSlug: string;
  projectId: string;
}

async function readProjectState(path: string): Promise<ProjectState | undefined> {
  const raw = await readJsonFile(path);
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { orgSlug, projectSlug, projectId } = raw as Record<string, unknown>;
  if (typeof orgSlug !== 'string' || typeof projectSlug !== 'string' || typeof projectId !== 'string') return undefined;
  return { orgSlug, projectSlug, projectId };
}

async function resolveScope(
  env: NodeJS.ProcessEnv,
  cwd: string,
  resolved: ResolvedToken,
  baseUrl: string,
  fetchImpl: typeof fetch | undefined,
): Promise<ArkorScope> {
  const orgSlug = env.ARKOR_ORG_SLUG || undefined;
  const projectSlug = env.ARKOR_PROJECT_SLUG || undefined;
  if (orgSlug !== undefined && projectSlug !== undefined) return { orgSlug, projectSlug };
  if (orgSlug !== undefined)
    throw new ArkorConfigError('ARKOR_ORG_SLUG is set but ARKOR_PROJECT_SLUG is not; set both or neither.');
  if (projectSlug !== undefined)
    throw new ArkorConfigError('ARKOR_PROJECT_SLUG is set but ARKOR_ORG_SLUG is not; set both or neither.');

  const statePath = join(cwd, '.arkor', 'state.json');
  const state = await readProjectState(statePath);
  const anonOrg = resolved.source === 'anon' ? resolved.credentials?.orgSlug : undefined;
  if (state !== undefined) {
    if (resolved.source === 'anon' && state.orgSlug !== anonOrg) {
      // Never overwrite: the file belongs to another identity's project (docs/arkor-protocol.md §2.3 rule 2).
      throw new ArkorConfigError(
        `${statePath} belongs to org "${state.orgSlug}", but the anonymous credentials are for org "${String(anonOrg)}". ` +
          'Use the matching credentials, remove the file to bootstrap a new project, or set ARKOR_ORG_SLUG and ARKOR_PROJECT_SLUG.',
      );
    }
    return { orgSlug: state.orgSlug, projectSlug: state.projectSlug };
  }
  if (resolved.source !== 'anon') {
    throw new ArkorConfigError(
      `No Arkor project scope: set ARKOR_ORG_SLUG and ARKOR_PROJECT_SLUG, or create ${statePath} ` +
        'containing { "orgSlug": "...", "projectSlug": "...", "projectId": "..." }.',
    );
  }
  if (typeof anonOrg !== 'string' || anonOrg === '') {
    throw new ArkorConfigError(
      'The anonymous credentials have no "orgSlug"; set ARKOR_ORG_SLUG and ARKOR_PROJECT_SLUG.',
    );
  }
  const project = await bootstrapProject(resolved.token, anonOrg, cwd, baseUrl, fetchImpl);
  await writeProjectState(statePath, { orgSlug: anonOrg, projectSlug: project.slug, projectId: project.id });
  return { orgSlug: anonOrg, projectSlug: project.slug };
}

/**
 * The slug the SDK derives from a directory name (docs/arkor-protocol.md §2.3): lowercased, every character
 * outside `[a-z0-9-]` replaced by `-`, leading/trailing dashes trimmed, at most 40 characters,
 * `project` when empty.
 */
export function projectSlugFromDirectory(directory: string): string {
  const slug = basename(directory)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug === '' ? 'project' : slug;
}

async function bootstrapProject(
  token: string,
  orgSlug: string,
  cwd: string,
  baseUrl: string,
  fetchImpl: typeof fetch | undefined,
): Promise<{ id: string; slug: string }> {
  const client = new ArkorClient({
    baseUrl,
    token,
    scope: { orgSlug, projectSlug: '' },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  const slug = projectSlugFromDirectory(cwd);
  try {
    return await client.createProject({ name: basename(cwd), slug }, { orgSlug });
  } catch (error) {
    if (!(error instanceof CloudApiError) || error.status !== 409) throw error;
    const existing = (await client.listProjects({ orgSlug })).find((project) => project.slug === slug);
    if (existing === undefined) throw error;
    return existing;
  }
}

/** Writes state.json atomically (temp file + rename) as 2-space JSON with a trailing newline. */
async function writeProjectState(path: string, state: ProjectState): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, 'utf8');
  await rename(temp, path);
}

/**
 * The server's configuration, in the Globus/XSEDE oauth-ssh format so that
 * existing /etc/oauth_ssh files keep working: "key value[, value...]" lines,
 * `#` comments anywhere, values split on spaces and commas, multi-value keys
 * merged, single-value keys refused when repeated, unknown keys refused.
 * Our additions use the same grammar and are documented in server-pam/CONFIG.md.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from '../shared/errors.js';
import { secureOrLoopback } from '../shared/url-policy.js';
import { normalizeIssuer } from '../shared/providers/oidc-issuer.js';
import type { SessionPolicy } from './policy.js';
import { checkFileSafety, type FileRole } from './file-safety.js';
import { parseMapFile, type AccountMap } from './map-file.js';

export const DEFAULT_CONFIG_FILES = ['/etc/oauth_ssh/oauth-ssh.conf', '/etc/oauth_ssh/globus-ssh.conf'];
export const DEFAULT_SOCKET = '/run/oauth-ssh/pam.sock';

export const GLOBUS_ENVIRONMENTS: Record<string, string> = {
  production: 'https://auth.globus.org',
  preview: 'https://auth.preview.globus.org',
  sandbox: 'https://auth.sandbox.globuscs.info',
  staging: 'https://auth.staging.globuscs.info',
  test: 'https://auth.test.globuscs.info',
  integration: 'https://auth.integration.globuscs.info',
};

export type AuditTarget = { kind: 'stderr' } | { kind: 'syslog' } | { kind: 'file'; path: string };

/** A JWT issuer and the profile its tokens are judged by. */
export interface JwtIssuerConfig {
  issuer: string;
  /** 'oidc': accounts from claims (username claim, map files); 'scitokens': from `ssh:/USER` scope grants. */
  kind: 'oidc' | 'scitokens';
  /** Accepted `aud` values (the SciTokens "any" audiences for the SciTokens profile only). */
  audiences: string[];
}

/** How OIDC issuers' claims are read: which claim names the account, holds groups, holds the uid. */
export interface ClaimRules {
  usernameClaim: string | null;
  usernameSuffix: string | null;
  /** Put before the username to form the account name (e.g. "ext_"). */
  usernamePrefix: string | null;
  groupsClaim: string | null;
  uidClaim: string | null;
  /** Fetched with the token as Bearer for a uid claim the token lacks (IDCS: /admin/v1/Me). */
  userinfoUrl: string | null;
  /** The one issuer whose tokens may be sent to userinfoUrl: the one it lives under. */
  userinfoIssuer: string | null;
  /** Scope values every JWT / introspected token must carry (a bare `ssh` can be required, never grant). */
  requiredScopes: string[];
}

export interface ServerConfig {
  file: string;
  /** auth_method globus_auth: opaque tokens are introspected at Globus Auth with these credentials. */
  globus: boolean;
  /** The Globus environment's name (production unless `environment` says otherwise): PAM lines may name it. */
  environment: string;
  /** '' without globus_auth. */
  clientId: string;
  clientSecret: string;
  authUrl: string;
  idpSuffix: string | null;
  mapFiles: string[];
  accountMap: AccountMap;
  /** The one session policy, for every provider. */
  policy: SessionPolicy;
  /** auth_method oidc / scitokens: JWT issuers, each with its profile. */
  jwtIssuers: JwtIssuerConfig[];
  claims: ClaimRules;
  socketPath: string;
  minUid: number;
  /** Accounts below min_uid that may still log in, by explicit choice. */
  allowAccounts: string[];
  /** The account the in-band queries arrive as; it can never log in. */
  queryAccount: string;
  introspectionCacheTtl: number;
  httpTimeout: number;
  audit: AuditTarget;
  /** Counters in the Prometheus text format, for node_exporter's textfile collector; null = off. */
  metricsFile: string | null;
  /** An empty answer to the token prompt starts a device login (plain ssh clients). */
  deviceFlow: boolean;
  /** Seconds a device login may take in all; keep it below sshd's LoginGraceTime. */
  deviceFlowDeadline: number;
  deviceQr: boolean;
  /** Quiet zone of the QR code in modules, 2 or 4: its size on screen. */
  deviceQrMargin: number;
  /** The device prompt's text, with {qr}, {url}, {url_complete} and {code}; null = the built-in one. */
  devicePromptTemplate: string | null;
  /** RFC 7662 introspection of opaque tokens at a generic provider (instead of Globus). */
  introspection: { issuer: string; clientId: string; clientSecret: string; allowedClients: string[] } | null;
  /** The device flow with a generic OIDC provider instead of Globus Auth (its tokens are judged by that issuer). */
  deviceOidc: { issuer: string; clientId: string; clientSecret: string | null; scope: string; resource: string | null; extraParams: Record<string, string> } | null;
  /** What `check` should tell the administrator: old key names, implied profiles. */
  notes: string[];
}

/** Names that say what a key is, beside the older names (which keep working; `check` points to the new one). */
const RENAMED: Record<string, string> = {
  jwt_max_auth_age: 'max_auth_age',
  jwt_acr_values: 'acr_values',
  jwt_amr_values: 'amr_values',
  jwt_groups_claim: 'groups_claim',
  jwt_allowed_groups: 'allowed_groups',
};

const MULTI = new Set([
  'introspection_allowed_clients', 'auth_method', 'map_file', 'permitted_idps', 'issuers', 'oidc_issuers', 'scitokens_issuers', 'allow_accounts',
  'scitokens_audience', 'oidc_audience', 'allowed_groups', 'acr_values', 'amr_values', 'jwt_required_scope', 'device_scope', 'device_extra_param',
]);
/** Keys that read OIDC claims: they need JWT issuers. */
const CLAIM_KEYS = ['userinfo_url', 'jwt_username_prefix', 'jwt_username_claim', 'jwt_username_suffix', 'groups_claim', 'allowed_groups', 'jwt_uid_claim', 'jwt_required_scope', 'oidc_audience'];
const SINGLE = new Set([
  'client_id', 'client_secret', 'client_secret_file', 'idp_suffix', 'authentication_timeout', 'mfa', 'environment', 'auth_url',
  'socket', 'min_uid', 'query_account', 'introspection_cache_ttl', 'http_timeout', 'audit_log', 'metrics_file',
  'device_flow', 'device_flow_deadline', 'device_qr',
  'jwt_username_claim', 'jwt_username_suffix', 'groups_claim', 'jwt_uid_claim', 'max_auth_age',
  'device_issuer', 'device_client_id', 'device_client_secret_file', 'device_resource', 'userinfo_url', 'jwt_username_prefix', 'device_prompt_file', 'device_qr_margin',
  'introspection_issuer', 'introspection_client_id', 'introspection_client_secret_file',
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
const ACCOUNT = /^[a-z_][a-z0-9_.-]*\$?$/i;
/** The SciTokens / WLCG audiences that mean "any host": for the SciTokens profile only. */
const SCITOKENS_ANY_AUDIENCES = ['https://wlcg.cern.ch/jwt/v1/any', 'ANY'];

interface Entry {
  values: string[];
  line: number;
  /** The key as written (an older name, when renamed). */
  written: string;
}

/**
 * One line's words: split on spaces and commas, `#` starts a comment; our
 * extension: "double quotes" keep spaces and commas inside one value (an
 * audience that is a scope string, "openid ssh").
 */
function words(raw: string, file: string, line: number): string[] {
  const out: string[] = [];
  let word = '';
  let quoted = false;
  let inWord = false;
  for (const ch of raw) {
    if (quoted) {
      if (ch === '"') quoted = false;
      else word += ch;
      continue;
    }
    if (ch === '#') break;
    if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (/[\s,]/.test(ch)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quoted) throw new ConfigError(file, 'a double quote is not closed on this line', line);
  if (inWord) out.push(word);
  return out;
}

function tokenize(text: string, file: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const tokens = words(raw, file, line);
    if (tokens.length === 0) return;
    const written = tokens[0]!.toLowerCase();
    const key = RENAMED[written] ?? written;
    const values = tokens.slice(1);
    if (!MULTI.has(key) && !SINGLE.has(key)) {
      throw new ConfigError(file, `unknown key "${tokens[0]}"; see server-pam/CONFIG.md for the keys`, line);
    }
    if (values.length === 0 || values.some((v) => v === '')) throw new ConfigError(file, `"${written}" needs a value`, line);
    const existing = entries.get(key);
    if (existing && SINGLE.has(key)) throw new ConfigError(file, `"${written}" is set twice (first on line ${existing.line}${existing.written !== written ? ` as ${existing.written}` : ''}); keep one`, line);
    if (SINGLE.has(key) && values.length > 1) throw new ConfigError(file, `"${written}" takes one value, got ${values.length}`, line);
    if (existing) existing.values.push(...values);
    else entries.set(key, { values, line, written });
  });
  return entries;
}

/** A file holding a secret: safe along its path, and readable by its owner only. */
export function checkSecretFileMode(path: string, what: string): void {
  checkFileSafety(path, what, 'secret');
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/** `checkFile` is the ownership/mode check of files that decide logins (file-safety.ts); tests of pure parsing replace it. */
export function parseServerConfig(text: string, file: string, checkFile: (path: string, what: string, role: FileRole) => void = checkFileSafety): ServerConfig {
  const checkMode = (path: string, what: string) => checkFile(path, what, 'secret');
  const entries = tokenize(text, file);
  const notes: string[] = [];
  for (const [key, e] of entries) if (e.written !== key) notes.push(`line ${e.line}: "${e.written}" is now called "${key}" (it applies to every provider); the old name keeps working`);
  const one = (key: string): { value: string; line: number } | undefined => {
    const e = entries.get(key);
    return e && { value: e.values[0]!, line: e.line };
  };
  const many = (key: string): string[] => entries.get(key)?.values ?? [];
  const named = (key: string) => entries.get(key)?.written ?? key;
  const fail = (key: string, message: string): never => {
    throw new ConfigError(file, message, entries.get(key)?.line);
  };
  const int = (key: string, min: number, fallback: number): number => {
    const e = one(key);
    if (!e) return fallback;
    if (!/^\d+$/.test(e.value) || Number(e.value) < min) fail(key, `"${named(key)}" must be a whole number >= ${min}, got "${e.value}"`);
    return Number(e.value);
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = one(key)?.value.toLowerCase();
    if (v === undefined) return fallback;
    if (v !== 'true' && v !== 'false') fail(key, `${key} must be true or false, got "${v}"`);
    return v === 'true';
  };
  const url = (key: string, value: string): string => {
    if (!secureOrLoopback(value)) fail(key, `issuer "${value}" must be an https URL (http only on loopback)`);
    return normalizeIssuer(value);
  };

  // Which providers: Globus Auth, and JWT issuers each with a profile.
  const methods = many('auth_method').map((m) => m.toLowerCase());
  if (methods.length === 0) methods.push('globus_auth');
  for (const m of methods) if (m !== 'globus_auth' && m !== 'scitokens' && m !== 'oidc') fail('auth_method', `unknown auth_method "${m}" (supported: globus_auth, oidc, scitokens)`);
  const globus = methods.includes('globus_auth');
  const jwt = methods.includes('scitokens') || methods.includes('oidc');
  const issuerKeys = ['issuers', 'oidc_issuers', 'scitokens_issuers'].filter((k) => entries.has(k));
  if (jwt && issuerKeys.length === 0) fail('auth_method', `auth_method ${methods.includes('oidc') ? 'oidc' : 'scitokens'} needs "issuers": the token issuers (URLs) to trust (oidc_issuers for OIDC providers, scitokens_issuers for SciTokens issuers)`);
  if (!jwt && (issuerKeys.length > 0 || entries.has('scitokens_audience'))) {
    const key = issuerKeys[0] ?? 'scitokens_audience';
    fail(key, `"${named(key)}" and "scitokens_audience" need auth_method oidc (or scitokens)`);
  }
  const claimKey = CLAIM_KEYS.find((k) => entries.has(k));
  if (claimKey && !jwt) fail(claimKey, `"${named(claimKey)}" applies to JWT access tokens: add oidc (or scitokens) to auth_method and set issuers`);

  const usernameClaim = one('jwt_username_claim')?.value ?? null;
  const scitokensAudiences = many('scitokens_audience');
  // An OIDC provider's tokens must name this host: the SciTokens "any host" audiences are never inherited.
  const oidcAudiences = many('oidc_audience').length ? many('oidc_audience') : scitokensAudiences.filter((a) => !SCITOKENS_ANY_AUDIENCES.includes(a));
  const jwtIssuers: JwtIssuerConfig[] = [];
  const addIssuer = (key: string, value: string, kind: JwtIssuerConfig['kind']) => {
    const issuer = url(key, value);
    const other = jwtIssuers.find((i) => i.issuer === issuer);
    if (other) fail(key, `issuer ${issuer} is listed twice${other.kind !== kind ? ` (as ${other.kind} and as ${kind}): an issuer has one profile` : ''}`);
    const audiences = kind === 'scitokens' ? (scitokensAudiences.length ? scitokensAudiences : [hostname(), ...SCITOKENS_ANY_AUDIENCES]) : oidcAudiences;
    jwtIssuers.push({ issuer, kind, audiences });
  };
  for (const i of many('oidc_issuers')) addIssuer('oidc_issuers', i, 'oidc');
  for (const i of many('scitokens_issuers')) addIssuer('scitokens_issuers', i, 'scitokens');
  // The older "issuers": SciTokens issuers, unless the admin opted into claim mapping (then OIDC providers: a
  // Keycloak client scope called "ssh" must never mean "any account").
  const legacyKind = methods.includes('oidc') || usernameClaim ? 'oidc' : 'scitokens';
  for (const i of many('issuers')) addIssuer('issuers', i, legacyKind);
  if (entries.has('issuers')) {
    const why = methods.includes('oidc') ? 'auth_method oidc' : 'jwt_username_claim is set';
    notes.push(`line ${entries.get('issuers')!.line}: "issuers" are judged as ${legacyKind === 'oidc' ? `OIDC providers (accounts from their claims; their scope grants no account), because ${why}: write oidc_issuers` : 'SciTokens issuers (ssh:/USER scope grants): write scitokens_issuers'} to say so`);
  }
  for (const i of jwtIssuers) {
    if (i.kind === 'oidc' && i.audiences.length === 0) notes.push(`OIDC issuer ${i.issuer} has no oidc_audience: its JWTs are refused until you name the audience its tokens carry for this host`);
  }

  const userinfoUrl = one('userinfo_url')?.value ?? null;
  let userinfoIssuer: string | null = null;
  if (userinfoUrl) {
    // The token is sent there: only under its own issuer's URL, and only that issuer's tokens.
    let origin = '';
    try {
      origin = new URL(userinfoUrl).origin;
    } catch {
      fail('userinfo_url', `userinfo_url is not a URL: "${userinfoUrl}"`);
    }
    const under = jwtIssuers.filter((i) => userinfoUrl.startsWith(`${i.issuer}/`)).sort((a, b) => b.issuer.length - a.issuer.length)[0];
    if (!under) fail('userinfo_url', `userinfo_url must be on the origin of one of the issuers, under its URL (the token is sent there), got ${origin}`);
    userinfoIssuer = under!.issuer;
    if (!entries.has('jwt_uid_claim')) fail('userinfo_url', 'userinfo_url is asked for the uid claim only: set jwt_uid_claim too');
  }
  if (entries.has('allowed_groups') && !entries.has('groups_claim')) fail('allowed_groups', `${named('allowed_groups')} needs groups_claim (the claim that lists groups)`);
  if (entries.has('groups_claim') && !entries.has('allowed_groups')) fail('groups_claim', `${named('groups_claim')} is read only for allowed_groups: set the groups admitted`);
  // Rules no configured provider reads would be ignored: refuse them instead.
  const oidcIssuers = jwtIssuers.filter((i) => i.kind === 'oidc');
  for (const key of ['jwt_username_claim', 'jwt_username_suffix', 'jwt_username_prefix']) {
    if (entries.has(key) && oidcIssuers.length === 0) fail(key, `"${key}" maps OIDC providers' claims, and this config lists none (SciTokens issuers map by their scope): list the provider in oidc_issuers, or remove it`);
  }
  for (const key of ['jwt_username_suffix', 'jwt_username_prefix']) if (entries.has(key) && !usernameClaim) fail(key, `"${key}" needs jwt_username_claim (the claim it applies to)`);
  // As SSSD wants fully qualified names with several domains: one username claim read at two issuers
  // would let either issuer's "kate" log in as the local kate.
  if (usernameClaim && oidcIssuers.length > 1) {
    fail('jwt_username_claim', `jwt_username_claim names accounts by a claim each issuer chooses freely, and ${oidcIssuers.length} OIDC issuers are listed (${oidcIssuers.map((i) => i.issuer).join(', ')}): a user of one could log in as a user of another. Run one oauth-ssh-server per provider (socket=, see "Several providers"), or map by sub@issuer in a map file`);
  }

  let clientId = '';
  let clientSecret = '';
  if (globus) {
    clientId = one('client_id')?.value ?? fail('client_id', 'client_id is required with auth_method globus_auth: the SSH service\'s client id');
    if (!UUID.test(clientId)) fail('client_id', `client_id must be a UUID, got "${clientId}"`);
    if (entries.has('client_secret') && entries.has('client_secret_file')) fail('client_secret_file', 'set client_secret or client_secret_file, not both');
    if (entries.has('client_secret')) {
      checkMode(file, 'this config file holds client_secret and');
      clientSecret = one('client_secret')!.value;
    } else if (entries.has('client_secret_file')) {
      const path = one('client_secret_file')!.value;
      checkMode(path, 'client_secret_file');
      clientSecret = readText(path, 'client_secret_file').trim();
      if (!clientSecret) fail('client_secret_file', `${path} is empty`);
    } else {
      fail('client_id', 'client_secret (or client_secret_file) is required with auth_method globus_auth');
    }
    // Rules Globus introspection can never satisfy would refuse every Globus login, or be ignored for it: refuse the config.
    const cannot: Array<[string, string]> = [
      ['acr_values', 'Globus Auth reports no acr (use mfa true, or amr_values)'],
      ['allowed_groups', 'Globus introspection reports no groups'],
      ['jwt_uid_claim', 'Globus identities carry no POSIX uid'],
    ];
    for (const [key, why] of cannot) {
      if (entries.has(key)) fail(key, `"${named(key)}" cannot apply to Globus Auth tokens (${why}), and this host accepts them: remove it, or run a separate oauth-ssh-server for the other provider (module argument socket=, see CONFIG.md "Several providers")`);
    }
  } else {
    const globusOnly = ['client_id', 'client_secret', 'client_secret_file', 'idp_suffix', 'environment', 'auth_url'].find((k) => entries.has(k));
    if (globusOnly) fail(globusOnly, `"${globusOnly}" belongs to auth_method globus_auth, which this config does not use`);
  }

  const environment = one('environment')?.value.toLowerCase() ?? 'production';
  if (!(environment in GLOBUS_ENVIRONMENTS)) fail('environment', `unknown environment "${environment}" (one of ${Object.keys(GLOBUS_ENVIRONMENTS).join(', ')})`);
  let authUrl = one('auth_url')?.value ?? GLOBUS_ENVIRONMENTS[environment]!;
  if (!secureOrLoopback(authUrl)) fail('auth_url', `auth_url must use https (http only on loopback), got "${authUrl}"`);
  authUrl = new URL(authUrl).origin + new URL(authUrl).pathname.replace(/\/+$/, '');
  // The router would always hand such tokens to Globus: an entry that can never judge anything is a mistake.
  if (globus && jwtIssuers.some((i) => i.issuer === authUrl)) fail(issuerKeys[0]!, `issuer ${authUrl} is Globus Auth itself, which globus_auth already judges: remove it from the issuer lists`);

  const idpSuffix = one('idp_suffix')?.value.toLowerCase() ?? null;
  const mapFiles = many('map_file');
  if (mapFiles.length && !globus && !usernameClaim) fail('map_file', 'map files apply to Globus identities and to OIDC claims with jwt_username_claim; this config has neither, so they would be ignored');
  if (globus && idpSuffix === null && mapFiles.length === 0) {
    fail('client_id', 'set idp_suffix or at least one map_file: without them no identity maps to a local account');
  }
  const accountMap: AccountMap = new Map();
  for (const path of mapFiles) {
    // Whoever can write a map file can log in as anyone it names.
    checkFile(path, `map_file ${path}`, 'decisive');
    for (const [key, accounts] of parseMapFile(readText(path, 'map_file'), path)) {
      accountMap.set(key, [...new Set([...(accountMap.get(key) ?? []), ...accounts])]);
    }
  }

  // UUIDs and domains compare without case; an issuer URL (one realm of a Keycloak) exactly.
  const permittedIdps = many('permitted_idps').map((p) => (/^https?:\/\//i.test(p) ? normalizeIssuer(p) : p.toLowerCase()));
  for (const p of permittedIdps) if (!UUID.test(p) && !DOMAIN.test(p) && !(/^https?:\/\//.test(p) && secureOrLoopback(p))) fail('permitted_idps', `permitted_idps entry "${p}" is neither an IdP UUID, a domain nor an issuer URL`);
  const timeoutMinutes = int('authentication_timeout', 0, 0);
  const maxAge = entries.has('max_auth_age') ? int('max_auth_age', 1, 0) : null;
  // Both limits hold: the stricter one is the policy.
  const limits = [timeoutMinutes > 0 ? timeoutMinutes * 60 : null, maxAge].filter((v): v is number => v !== null);
  const policy: SessionPolicy = {
    permittedIdps,
    maxAuthAge: limits.length ? Math.min(...limits) : null,
    mfa: bool('mfa', false),
    acrValues: many('acr_values'),
    amrValues: many('amr_values'),
    allowedGroups: many('allowed_groups'),
  };

  const allowAccounts = many('allow_accounts');
  for (const a of allowAccounts) if (!ACCOUNT.test(a)) fail('allow_accounts', `"${a}" is not an account name`);
  const queryAccount = one('query_account')?.value ?? 'oauth-ssh';
  if (allowAccounts.includes(queryAccount)) fail('allow_accounts', `${queryAccount} is the query account and can never log in; remove it from allow_accounts`);

  const socketPath = one('socket')?.value ?? DEFAULT_SOCKET;
  if (!socketPath.startsWith('/')) fail('socket', `socket must be an absolute path, got "${socketPath}"`);

  const auditValue = one('audit_log')?.value ?? 'syslog';
  let audit: AuditTarget;
  if (auditValue === 'stderr' || auditValue === 'syslog') audit = { kind: auditValue };
  else if (auditValue.startsWith('file:/')) audit = { kind: 'file', path: auditValue.slice('file:'.length) };
  else return fail('audit_log', `audit_log must be syslog, stderr or file:/ABSOLUTE/PATH, got "${auditValue}"`);

  const metricsFile = one('metrics_file')?.value ?? null;
  if (metricsFile !== null && !metricsFile.startsWith('/')) fail('metrics_file', `metrics_file must be an absolute path (node_exporter's textfile directory, e.g. /var/lib/prometheus/node-exporter/oauth_ssh.prom), got "${metricsFile}"`);
  const listed = (issuer: string) => jwtIssuers.some((i) => i.issuer === issuer);
  const deviceIssuer = one('device_issuer')?.value;
  let deviceOidc: ServerConfig['deviceOidc'] = null;
  if (deviceIssuer) {
    if (!listed(normalizeIssuer(deviceIssuer))) fail('device_issuer', `device_issuer ${normalizeIssuer(deviceIssuer)} must also be listed in "issuers" (its tokens are judged by that issuer's rules)`);
    const deviceClient = one('device_client_id')?.value ?? fail('device_issuer', 'device_issuer needs device_client_id: this server\'s client at that provider');
    let deviceSecret: string | null = null;
    const secretFile = one('device_client_secret_file')?.value;
    if (secretFile) {
      checkMode(secretFile, 'device_client_secret_file');
      deviceSecret = readText(secretFile, 'device_client_secret_file').trim() || fail('device_client_secret_file', `${secretFile} is empty`);
    }
    const extraParams: Record<string, string> = {};
    for (const pair of many('device_extra_param')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) fail('device_extra_param', `device_extra_param takes key=value, got "${pair}"`);
      extraParams[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    deviceOidc = { issuer: normalizeIssuer(deviceIssuer), clientId: deviceClient, clientSecret: deviceSecret, scope: (many('device_scope').length ? many('device_scope') : ['openid']).join(' '), resource: one('device_resource')?.value ?? null, extraParams };
  } else {
    const orphan = ['device_client_id', 'device_client_secret_file', 'device_scope', 'device_resource', 'device_extra_param'].find((k) => entries.has(k));
    if (orphan) fail(orphan, `"${orphan}" goes with device_issuer`);
  }

  const introspectionIssuer = one('introspection_issuer')?.value;
  let introspection: ServerConfig['introspection'] = null;
  if (introspectionIssuer) {
    if (globus) fail('introspection_issuer', 'introspection_issuer is for servers without globus_auth (opaque tokens have one place to go)');
    if (!listed(normalizeIssuer(introspectionIssuer))) fail('introspection_issuer', `introspection_issuer ${normalizeIssuer(introspectionIssuer)} must also be listed in "issuers"`);
    const id = one('introspection_client_id')?.value ?? fail('introspection_issuer', 'introspection_issuer needs introspection_client_id and introspection_client_secret_file');
    const secretPath = one('introspection_client_secret_file')?.value ?? fail('introspection_issuer', 'introspection_issuer needs introspection_client_secret_file');
    checkMode(secretPath, 'introspection_client_secret_file');
    const secret = readText(secretPath, 'introspection_client_secret_file').trim() || fail('introspection_client_secret_file', `${secretPath} is empty`);
    introspection = { issuer: normalizeIssuer(introspectionIssuer), clientId: id, clientSecret: secret, allowedClients: many('introspection_allowed_clients') };
  } else {
    const orphan = ['introspection_client_id', 'introspection_client_secret_file', 'introspection_allowed_clients'].find((k) => entries.has(k));
    if (orphan) fail(orphan, `"${orphan}" goes with introspection_issuer`);
  }
  if (bool('device_flow', false) && !globus && !deviceOidc) fail('device_flow', 'device_flow needs auth_method globus_auth or a device_issuer');

  const promptFile = one('device_prompt_file')?.value;
  let devicePromptTemplate: string | null = null;
  if (promptFile) {
    // What people are told to open and approve: a phishing page if anyone else can edit it.
    checkFile(promptFile, 'device_prompt_file', 'decisive');
    devicePromptTemplate = readText(promptFile, 'device_prompt_file').replace(/\n+$/, '');
    // RFC 8628 3.3.1: the code is always shown, whatever else the page offers.
    for (const needed of ['{code}', '{url}']) if (!devicePromptTemplate.includes(needed)) fail('device_prompt_file', `${promptFile} must contain ${needed}`);
  }

  return {
    file,
    globus,
    environment,
    clientId: clientId.toLowerCase(),
    clientSecret,
    authUrl,
    idpSuffix,
    mapFiles,
    accountMap,
    policy,
    jwtIssuers,
    claims: {
      usernameClaim,
      usernameSuffix: one('jwt_username_suffix')?.value ?? null,
      usernamePrefix: one('jwt_username_prefix')?.value ?? null,
      groupsClaim: one('groups_claim')?.value ?? null,
      uidClaim: one('jwt_uid_claim')?.value ?? null,
      userinfoUrl,
      userinfoIssuer,
      requiredScopes: many('jwt_required_scope'),
    },
    socketPath,
    minUid: int('min_uid', 0, 1000),
    allowAccounts,
    queryAccount,
    introspectionCacheTtl: int('introspection_cache_ttl', 0, 60),
    httpTimeout: int('http_timeout', 1, 10),
    audit,
    metricsFile,
    deviceFlow: bool('device_flow', false),
    deviceFlowDeadline: int('device_flow_deadline', 10, 100),
    deviceQr: bool('device_qr', true),
    devicePromptTemplate,
    // The QR renderer (qrcode's utf8) draws even quiet zones only.
    deviceQrMargin: (() => {
      const m = int('device_qr_margin', 2, 2);
      return m === 2 || m === 4 ? m : fail('device_qr_margin', 'device_qr_margin must be 2 (compact) or 4 (the standard quiet zone)');
    })(),
    deviceOidc,
    introspection,
    notes,
  };
}

export function loadServerConfig(file?: string): ServerConfig {
  const path = file ?? DEFAULT_CONFIG_FILES.find((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
  if (!path) throw new ConfigError(DEFAULT_CONFIG_FILES[0]!, `no config file (also looked for ${DEFAULT_CONFIG_FILES[1]}); create one from server-pam/oauth-ssh.conf.example or pass --config`);
  // Checked before it is read: what is read is what was checked.
  checkFileSafety(path, 'the config file', 'decisive');
  return parseServerConfig(readText(path, 'the config file'), path);
}

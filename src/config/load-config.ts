// Reads the environment once, validates every setting, and fails fast naming the wrong one.
import { settings, type Config, type SettingDefinition } from './settings.ts';
import { ConfigError } from '../errors.ts';

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, def] of Object.entries(settings) as [string, SettingDefinition][]) {
    const raw = env[def.env];
    if (raw === undefined || raw === '') {
      config[key] = def.default;
      continue;
    }
    const parsed = def.schema.safeParse(raw);
    if (parsed.success) config[key] = parsed.data;
    else problems.push(`${def.env}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new ConfigError(`Invalid configuration — ${problems.join(' | ')}`);
  const result = { ...config, ...overrides } as Config;
  if (result.databaseUrl && !result.masterKey) {
    throw new ConfigError('Invalid configuration — CAREGATE_MASTER_KEY: required when DATABASE_URL is set');
  }
  // Cookies of an https:// deployment are Secure; Caregate speaks plain HTTP and learns that the
  // browser used TLS only from a trusted proxy's X-Forwarded-Proto. Without one no cookie could be set.
  if (result.baseUrl.startsWith('https:') && !result.trustProxy) {
    throw new ConfigError('Invalid configuration — CAREGATE_TRUST_PROXY: must be true when CAREGATE_BASE_URL is https:// (Caregate serves plain HTTP behind a TLS-terminating proxy that sends X-Forwarded-Proto)');
  }
  return result;
}

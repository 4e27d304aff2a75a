// Configuration fails fast and names the setting that is wrong.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';

const validKey = randomBytes(32).toString('base64');

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted an invalid configuration');
}

describe('loadConfig', () => {
  it('uses the documented defaults with an empty environment (embedded mode)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      baseUrl: 'http://localhost:3000',
      port: 3000,
      host: '0.0.0.0',
      trustProxy: false,
      dataDir: './data',
      migrateOnStart: true,
      bootstrapTenant: 'demo',
      signingAlg: 'ES256',
      accessTokenTtl: 900,
      idTokenTtl: 900,
      refreshTokenTtl: 1209600,
      argon2MemoryKib: 19456,
      argon2TimeCost: 2,
      logLevel: 'info',
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.masterKey).toBeUndefined();
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', CAREGATE_BASE_URL: '' })).toMatchObject({ port: 3000, baseUrl: 'http://localhost:3000' });
  });

  it('parses values from the environment', () => {
    const config = loadConfig({
      PORT: '8443',
      CAREGATE_BASE_URL: 'https://id.example.org/',
      CAREGATE_TRUST_PROXY: 'true',
      DATABASE_URL: 'postgres://caregate@db:5432/caregate',
      REDIS_URL: 'redis://cache:6379/0',
      CAREGATE_MASTER_KEY: validKey,
    });
    expect(config).toMatchObject({
      port: 8443,
      baseUrl: 'https://id.example.org', // trailing slash removed
      trustProxy: true,
      databaseUrl: 'postgres://caregate@db:5432/caregate',
      redisUrl: 'redis://cache:6379/0',
      masterKey: validKey,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['CAREGATE_BASE_URL', 'ftp://x'],
    ['CAREGATE_BASE_URL', 'not a url'],
    ['CAREGATE_MASTER_KEY', 'short'],
    ['DATABASE_URL', 'mysql://db/caregate'],
    ['REDIS_URL', 'http://cache:6379'],
    ['CAREGATE_TRUST_PROXY', 'yes'],
    ['CAREGATE_SIGNING_ALG', 'HS256'],
    ['CAREGATE_ARGON2_MEMORY_KIB', '4096'],
    ['CAREGATE_BOOTSTRAP_TENANT', 'Not A Slug'],
    ['CAREGATE_BOOTSTRAP_PASSWORD', 'short'],
  ])('refuses %s=%j with a ConfigError naming the variable', (name, value) => {
    const error = configError({ [name]: value, CAREGATE_MASTER_KEY: name === 'CAREGATE_MASTER_KEY' ? value : validKey });
    expect(error.message).toContain(name);
    expect(error.code).toBe('invalid_configuration');
  });

  it('names every wrong variable at once', () => {
    const error = configError({ PORT: 'abc', CAREGATE_BASE_URL: 'ftp://x', CAREGATE_LOG_LEVEL: 'loud' });
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('CAREGATE_BASE_URL');
    expect(error.message).toContain('CAREGATE_LOG_LEVEL');
  });

  it('says what is wrong with the value', () => {
    expect(configError({ CAREGATE_BASE_URL: 'ftp://x' }).message).toMatch(/scheme http: or https:/);
    expect(configError({ CAREGATE_MASTER_KEY: 'short' }).message).toMatch(/32 bytes/);
  });

  it('does not echo a secret value in the error message', () => {
    const error = configError({ CAREGATE_BOOTSTRAP_PASSWORD: 'hunter2' });
    expect(error.message).not.toContain('hunter2');
  });

  it('requires CAREGATE_MASTER_KEY when DATABASE_URL is set', () => {
    const error = configError({ DATABASE_URL: 'postgres://caregate@db:5432/caregate' });
    expect(error.message).toContain('CAREGATE_MASTER_KEY');
  });

  it('accepts DATABASE_URL with a 32-byte master key', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://db/caregate', CAREGATE_MASTER_KEY: validKey })).not.toThrow();
  });

  it('refuses an https:// base URL without CAREGATE_TRUST_PROXY, naming both settings (its Secure cookies could never be set over plain HTTP)', () => {
    const error = configError({ CAREGATE_BASE_URL: 'https://id.example.org' });
    expect(error.message).toContain('CAREGATE_TRUST_PROXY');
    expect(error.message).toContain('CAREGATE_BASE_URL');
    expect(() => loadConfig({}, { baseUrl: 'https://id.example.org' })).toThrow(ConfigError);
    expect(loadConfig({ CAREGATE_BASE_URL: 'https://id.example.org', CAREGATE_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });

  it('lets explicit overrides win over the environment', () => {
    expect(loadConfig({ PORT: '8080' }, { port: 0 }).port).toBe(0);
  });
});

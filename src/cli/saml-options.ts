// The SAML options of `app create` and `app saml`: files named on the command line (SP metadata XML,
// settings JSON) turned into the requests the application service takes. Flags override the
// settings file, which overrides the metadata; the service validates the result whole.
import type { schemas } from '../accounts/index.ts';
import { ValidationError } from '../errors.ts';
import type { Terminal } from './terminal.ts';

type ApplicationRequest = schemas.ApplicationRequest;
type SamlOverrides = schemas.SamlOverrides;
type SamlRequest = schemas.SamlRequest;

/** Reads a file an option names, where the operator runs the command; a failure names the option and the file. */
async function readOptionFile(terminal: Terminal, option: string, file: string): Promise<string> {
  try {
    return await terminal.readFile(file);
  } catch (error) {
    throw new ValidationError(`${option} ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

async function readSettingsFile(terminal: Terminal, option: string, file: string): Promise<SamlOverrides> {
  const json = await readOptionFile(terminal, option, file);
  let settings: unknown;
  try {
    settings = JSON.parse(json);
  } catch (error) {
    throw new ValidationError(`${option} ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!settings || typeof settings !== 'object' || Array.isArray(settings)) throw new ValidationError(`${option} ${file}: expected a JSON object of SAML settings`);
  return settings as SamlOverrides;
}

export interface SamlCreateOptions {
  samlMetadata?: string;
  samlSettings?: string;
  samlNameId?: string;
  samlEncrypt?: boolean;
  samlRequireSignedRequests?: boolean;
}

/** `app create --saml-metadata F --saml-settings F --saml-name-id X --saml-encrypt --saml-require-signed-requests`. */
export async function samlCreateOptions(o: SamlCreateOptions, terminal: Terminal): Promise<Pick<ApplicationRequest, 'saml' | 'samlMetadata'>> {
  const flags: SamlOverrides = {
    ...(o.samlNameId !== undefined ? { nameIdFormat: o.samlNameId as SamlOverrides['nameIdFormat'] } : {}),
    ...(o.samlEncrypt ? { encryptAssertion: true } : {}),
    ...(o.samlRequireSignedRequests ? { requireSignedRequests: true } : {}),
  };
  if (!o.samlMetadata && !o.samlSettings) {
    if (Object.keys(flags).length) throw new ValidationError('--saml-name-id, --saml-encrypt and --saml-require-signed-requests need --saml-metadata or --saml-settings');
    return {};
  }
  return {
    ...(o.samlMetadata ? { samlMetadata: await readOptionFile(terminal, '--saml-metadata', o.samlMetadata) } : {}),
    saml: { ...(o.samlSettings ? await readSettingsFile(terminal, '--saml-settings', o.samlSettings) : {}), ...flags },
  };
}

/** `app saml (--metadata F [--settings F] | --settings F | --remove)`: the request, or null to remove SAML. */
export async function samlUpdateOptions(o: { metadata?: string; settings?: string; remove?: boolean }, terminal: Terminal): Promise<SamlRequest | null> {
  if (o.remove) {
    if (o.metadata || o.settings) throw new ValidationError('--remove takes neither --metadata nor --settings');
    return null;
  }
  if (!o.metadata && !o.settings) throw new ValidationError('give --metadata FILE, --settings FILE (both: the settings override the metadata), or --remove');
  return {
    ...(o.settings ? await readSettingsFile(terminal, '--settings', o.settings) : {}),
    ...(o.metadata ? { metadata: await readOptionFile(terminal, '--metadata', o.metadata) } : {}),
  };
}

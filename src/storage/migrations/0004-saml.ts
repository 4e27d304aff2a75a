// SAML 2.0 identity provider: an application may also be (or only be) a SAML service provider,
// whose settings live as one validated JSON document (src/saml/settings.ts); an SP's entity ID names
// one application per tenant. Signing keys gain the self-signed certificate SAML metadata publishes.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Saml1764300000000 implements MigrationInterface {
  name = 'Saml1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE applications ADD COLUMN saml jsonb;
      -- AuthnRequests name their SP by entity ID: the lookup, and one application per ID.
      CREATE UNIQUE INDEX applications_saml_entity_id ON applications (tenant_id, (saml->>'entityId')) WHERE saml IS NOT NULL;
      ALTER TABLE signing_keys ADD COLUMN certificate text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE signing_keys DROP COLUMN certificate;
      DROP INDEX applications_saml_entity_id;
      ALTER TABLE applications DROP COLUMN saml;
    `);
  }
}

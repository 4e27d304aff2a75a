// Client secret rotation with an overlap: after a rotation the previous secret (sealed like the
// current one) keeps authenticating the client until previous_secret_expires_at, so the
// application's instances can move to the new secret one by one.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ApplicationSecrets1764800000000 implements MigrationInterface {
  name = 'ApplicationSecrets1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE applications ADD COLUMN previous_secret_sealed text, ADD COLUMN previous_secret_expires_at timestamptz;
      ALTER TABLE applications ADD CONSTRAINT applications_previous_secret_expires
        CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE applications DROP CONSTRAINT applications_previous_secret_expires;
      ALTER TABLE applications DROP COLUMN previous_secret_expires_at, DROP COLUMN previous_secret_sealed;
    `);
  }
}

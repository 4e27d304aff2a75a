// Renders the configuration table of docs/configuration.md from the settings declaration, so the two cannot drift
// (test/unit/readme.test.ts compares them; `node src/config/config-table.ts` prints it).
import { settings, type SettingDefinition } from './settings.ts';

export function renderConfigTable(): string {
  const rows = (Object.values(settings) as SettingDefinition[]).map((s) => {
    const def = s.default === undefined ? '—' : `\`${String(s.default)}\``;
    return `| \`${s.env}\` | ${def} | ${s.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderConfigTable() + '\n');

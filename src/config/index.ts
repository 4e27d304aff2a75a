export { loadConfig } from './load-config.ts';
export { settings, type Config, type SettingDefinition } from './settings.ts';
export { renderConfigTable } from './config-table.ts';
export { ensureDataDir } from './ensure-data-dir.ts';

export { loadConfig } from './load-config.ts';
export { settings, type Config, type SettingDefinition } from './settings.ts';

// Locations: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Locations"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Locations', path: '/locations', permission: 'caregate.locations:read' };
export const routes = [{ path: '/locations', view: Screen }];

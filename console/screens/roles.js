// Roles: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Roles"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Roles', path: '/roles', permission: 'caregate.roles:read' };
export const routes = [{ path: '/roles', view: Screen }];

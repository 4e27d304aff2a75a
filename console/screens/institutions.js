// Institutions: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Institutions"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Institutions', path: '/institutions', permission: 'caregate.institutions:read' };
export const routes = [{ path: '/institutions', view: Screen }];

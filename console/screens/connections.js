// Identity providers: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Identity providers"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Identity providers', path: '/identity-providers', permission: 'caregate.connections:read' };
export const routes = [{ path: '/identity-providers', view: Screen }];

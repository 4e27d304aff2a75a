// Applications: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Applications"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Applications', path: '/applications', permission: 'caregate.applications:read' };
export const routes = [{ path: '/applications', view: Screen }];

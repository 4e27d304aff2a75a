// Activity log: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Activity log"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Activity log', path: '/activity', permission: 'caregate.audit:read' };
export const routes = [{ path: '/activity', view: Screen }];

// Sign-in & security: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Sign-in & security"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Sign-in & security', path: '/security', permission: 'caregate.policy:read' };
export const routes = [{ path: '/security', view: Screen }];

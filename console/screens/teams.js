// Teams: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Teams"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Teams', path: '/teams', permission: 'caregate.teams:read' };
export const routes = [{ path: '/teams', view: Screen }];

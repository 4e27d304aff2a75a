// Directory: being built (issue 16).
import { Page, html } from '../ui.js';

function Screen() {
  return html`<${Page} title="Directory"><p>This section is being built.</p><//>`;
}

export const nav = { label: 'Directory', path: '/directory', permission: 'caregate.directory:read' };
export const routes = [{ path: '/directory', view: Screen }];

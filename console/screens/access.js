// Access: the temporary and reviewed access issue 18 added, as one section with a page each —
// emergency access (break-glass: settings, rules, uses and their reviews), access requests
// (just-in-time elevation: decide others', see and make one's own), delegations ("Acting
// Manager") and access review campaigns. The section shows to whoever holds any permission one of
// its pages needs; each page shows only what that person may use, and the API decides regardless.
import { navigate } from '../router.js';
import { html, useEffect, useMe } from '../ui.js';
import { ACCESS_PERMISSIONS, pagesFor } from './access-common.js';
import { EmergencyAccess } from './access-emergency.js';
import { AccessRequests } from './access-requests.js';
import { Delegations } from './access-delegations.js';
import { Campaign, Campaigns } from './access-reviews.js';

/** /access: the first page this person may use. */
function AccessStart() {
  const me = useMe();
  const first = pagesFor(me)[0];
  // After this render: the frame starts listening for moves only once its children have mounted.
  useEffect(() => {
    const moving = setTimeout(() => navigate(first.path, { replace: true }));
    return () => clearTimeout(moving);
  }, []);
  return html`<p class="loading" aria-busy="true">Opening ${first.label}…</p>`;
}

export const nav = { label: 'Access', path: '/access', permission: ACCESS_PERMISSIONS };
export const routes = [
  { path: '/access', view: AccessStart },
  { path: '/access/emergency', view: EmergencyAccess },
  { path: '/access/requests', view: AccessRequests },
  { path: '/access/delegations', view: Delegations },
  { path: '/access/reviews', view: Campaigns },
  { path: '/access/reviews/:campaign', view: Campaign },
];

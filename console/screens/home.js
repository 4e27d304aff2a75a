// The console's start page: who is signed in, what they may administer and where, and the way to
// each section they may use.
import { api } from '../api.js';
import { Link, Page, can, html, useLoad, useMe } from '../ui.js';

const SECTIONS = [
  ['/users', 'Users', 'caregate.users:read', 'Add people, give them roles at their locations, unlock and reset them.'],
  ['/roles', 'Roles', 'caregate.roles:read', 'What each role may do in each application: the permission matrix.'],
  ['/locations', 'Locations', 'caregate.locations:read', 'Your clinics and regions, as a tree.'],
  ['/institutions', 'Institutions', 'caregate.institutions:read', 'Study sites and partner institutions.'],
  ['/teams', 'Teams', 'caregate.teams:read', 'Groups of people who share roles, and the Everyone team.'],
  ['/applications', 'Applications', 'caregate.applications:read', 'The applications people sign in to (OIDC and SAML).'],
  ['/security', 'Sign-in & security', 'caregate.policy:read', 'Two-step sign-in, passwords, lockout, sessions, inactivity.'],
  ['/identity-providers', 'Identity providers', 'caregate.connections:read', 'Sign-in through Okta, Entra ID, Google or any OIDC or SAML provider.'],
  ['/directory', 'Directory', 'caregate.directory:read', 'Staff synchronised from LDAP or Active Directory.'],
  ['/activity', 'Activity log', 'caregate.audit:read', 'Every change and sign-in, searchable and exportable.'],
];

function Home() {
  const me = useMe();
  const counts = useLoad(() => (can(me, 'caregate.users:read') ? api.page('/users', { limit: 1 }) : Promise.resolve(undefined)), []);
  const scoped = Object.values(me.permissions).some((reach) => reach === 'scoped');
  return html`<${Page} title=${`Welcome, ${me.user?.givenName || me.user?.displayName || me.user?.username}`}
    subtitle=${`${me.tenant.name} · times shown in ${me.tenant.timeZone}${counts.data ? ` · ${counts.data.total} users you can see` : ''}`}>
    ${scoped && html`<p class="notice">Some of your rights hold only at certain locations, institutions or applications: the console shows what is within them.</p>`}
    <ul class="sections">
      ${SECTIONS.filter(([, , permission]) => can(me, permission)).map(([href, title, , text]) => html`<li class="card"><h2><${Link} href=${href}>${title}<//></h2><p>${text}</p></li>`)}
    </ul>
  <//>`;
}

export const nav = { label: 'Start', path: '/' };
export const routes = [{ path: '/', view: Home }];

// The console's entry point: completes a sign-in that comes back to /admin/callback, asks the admin
// API who is signed in and what they may do (GET /me), then draws the frame — the tenant's name, a
// navigation of the sections this person may use, their name and Sign out — and the screen the
// address names. Each screen module exports `nav` (its entry, and the permission that shows it)
// and `routes` (paths and views), gathered in routes.js.
import { render } from './vendor/preact-htm.js';
import { completeSignIn, consoleBase, signIn, signOut } from './auth.js';
import { api } from './api.js';
import { currentPath, navigate, onNavigate } from './router.js';
import { html, Link, Me, Notices, Page, can, useEffect, useState } from './ui.js';
import { SCREENS, routeFor } from './routes.js';

function NotFound() {
  return html`<${Page} title="Page not found"><p>There is no such page in the console. <${Link} href="/">Go to the start page</${Link}>.</p><//>`;
}

function Frame({ me }) {
  const [path, setPath] = useState(currentPath());
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => onNavigate(() => {
    setPath(currentPath());
    setMenuOpen(false);
  }), []);
  const route = routeFor(path);
  const View = route?.route.view ?? NotFound;
  const sections = SCREENS.map((s) => s.nav).filter((n) => n && (!n.permission || can(me, n.permission)));
  const active = (navPath) => (navPath === '/' ? path === '/' : path === navPath || path.startsWith(`${navPath}/`));
  const name = me.user?.displayName || me.user?.username;
  return html`<${Me.Provider} value=${me}>
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <p class="brand"><span class="tenant-name">${me.tenant.name}</span> <span class="product">console</span></p>
      <button type="button" class="menu-toggle secondary" aria-expanded=${menuOpen ? 'true' : 'false'} aria-controls="sections" onClick=${() => setMenuOpen(!menuOpen)}>Menu</button>
      <div class="who">
        <span>${name}</span>
        <button type="button" class="secondary" onClick=${() => signOut()}>Sign out</button>
      </div>
    </header>
    <div class="layout">
      <nav id="sections" class=${menuOpen ? 'open' : ''} aria-label="Sections">
        <ul>${sections.map((n) => html`<li><${Link} href=${n.path} aria-current=${active(n.path) ? 'page' : undefined}>${n.label}<//></li>`)}</ul>
      </nav>
      <main id="main">
        <${Notices} />
        <${View} ...${route?.params ?? {}} key=${path} />
      </main>
    </div>
  <//>`;
}

function Problem({ title, message, retry, actionLabel = 'Sign in again' }) {
  return html`<main id="main" class="problem"><h1>${title}</h1><p>${message}</p>
    ${retry && html`<button type="button" onClick=${retry}>${actionLabel}</button>`}</main>`;
}

async function start() {
  const root = document.getElementById('app');
  const path = currentPath();
  if (path === '/signed-out') {
    render(html`<${Problem} title="You are signed out" message="You signed out of the console." retry=${() => signIn(consoleBase())} />`, root);
    return;
  }
  if (path === '/callback') {
    try {
      navigate(await completeSignIn(), { replace: true });
    } catch (error) {
      render(html`<${Problem} title="Sign-in did not complete" message=${error.message} retry=${() => signIn(consoleBase())} />`, root);
      return;
    }
  }
  let me;
  try {
    me = await api.get('/me');
  } catch (error) {
    render(html`<${Problem} title="The console is unavailable" message=${error.message} retry=${() => signIn(consoleBase())} />`, root);
    return;
  }
  if (!Object.keys(me.permissions).length) {
    render(html`<${Problem} title="No administrative rights" message=${`You are signed in as ${me.user?.username ?? 'someone'}, who may not administer ${me.tenant.name}. Ask an administrator for a role with admin permissions.`} retry=${() => signOut()} actionLabel="Sign out" />`, root);
    return;
  }
  root.textContent = '';
  render(html`<${Frame} me=${me} />`, root);
}

start();

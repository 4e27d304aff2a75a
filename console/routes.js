// The console's route table: every screen, and the paths each answers with its view, tried in this
// order. app.js draws the screen from it; tests check against it that a link Caregate sends (an
// alert email's) opens a screen, since the server answers every path below /admin with one page.
import { match } from './router.js';
import * as home from './screens/home.js';
import * as users from './screens/users.js';
import * as roles from './screens/roles.js';
import * as locations from './screens/locations.js';
import * as institutions from './screens/institutions.js';
import * as teams from './screens/teams.js';
import * as applications from './screens/applications.js';
import * as serviceAccounts from './screens/service-accounts.js';
import * as security from './screens/security.js';
import * as access from './screens/access.js';
import * as connections from './screens/connections.js';
import * as directory from './screens/directory.js';
import * as activity from './screens/activity.js';

/** Each exports `nav` (its entry in the navigation, and the permission that shows it) and `routes`. */
export const SCREENS = [home, users, roles, locations, institutions, teams, applications, serviceAccounts, security, access, connections, directory, activity];
export const ROUTES = SCREENS.flatMap((screen) => screen.routes);

/** The route a console path ("/users/ada", below /t/{tenant}/admin) opens, with its parameters; undefined when none does. */
export function routeFor(path) {
  for (const route of ROUTES) {
    const params = match(route.path, path);
    if (params) return { route, params };
  }
  return undefined;
}

// Which console screen a link opens. The server answers every path below /t/{tenant}/admin with the
// console's one page, so a link answering 200 proves nothing; the console's own route table
// (console/routes.js, the one app.js draws from) decides whether the path is a screen, and which.
interface ConsoleRoutes {
  routeFor(path: string): { route: { path: string; view: { name: string } }; params: Record<string, string> } | undefined;
}

const { routeFor } = (await import(new URL('../../console/routes.js', import.meta.url).href)) as ConsoleRoutes;

/**
 * The name of the view `link` opens in `tenant`'s console ("EmergencyAccess" for
 * …/t/demo/admin/access/emergency); undefined for a link outside that console or a path it does not route.
 */
export function consoleScreenOf(link: string, tenant: string): string | undefined {
  const base = `/t/${tenant}/admin`;
  const { pathname } = new URL(link);
  if (pathname !== base && !pathname.startsWith(`${base}/`)) return undefined;
  return routeFor(pathname.slice(base.length) || '/')?.route.view.name;
}

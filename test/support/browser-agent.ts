// A minimal cookie-keeping HTTP agent that walks OIDC redirects and posts the login form, the way a
// browser would (the real-browser tests use Chromium; this keeps protocol tests fast).
export interface Page {
  status: number;
  url: string;
  location?: string;
  html: string;
  headers: Headers;
}

/**
 * `userAgent` names the browser, as the sessions list shows it; `headers` go with every request
 * (a test may change them between requests: an X-Forwarded-For moves the browser to another network).
 */
export function createAgent(userAgent?: string, headers: Record<string, string> = {}) {
  const jar = new Map<string, string>();

  function remember(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0/i.test(a) || (/expires=/i.test(a) && new Date(a.split('=')[1]!) < new Date()));
      if (expired || !value) jar.delete(name);
      else jar.set(name, value);
    }
  }

  async function request(url: string, init: RequestInit = {}): Promise<Page> {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...headers, ...(init.headers as Record<string, string>), ...(userAgent ? { 'user-agent': userAgent } : {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), accept: 'text/html' },
    });
    remember(res);
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, url, location: location ? new URL(location, url).href : undefined, html: await res.text(), headers: res.headers };
  }

  return {
    jar,
    get: (url: string) => request(url),
    postForm: (url: string, fields: Record<string, string>) =>
      request(url, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    /** Follows redirects until a page is returned or the next hop starts with `stopAt`. */
    async follow(start: Page, stopAt?: string): Promise<Page> {
      let page = start;
      for (let hops = 0; page.location && hops < 20; hops++) {
        if (stopAt && page.location.startsWith(stopAt)) return page;
        page = await request(page.location);
      }
      return page;
    },
  };
}
export type Agent = ReturnType<typeof createAgent>;

/** What reading a page's forms needs (a page made up by a test has no headers). */
export type PageText = Pick<Page, 'status' | 'url' | 'html'>;

/** The form fields and action of the first form on a page. */
export function formOf(page: PageText, index = 0): { action: string; fields: Record<string, string> } {
  const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms[index];
  if (!form) throw new Error(`no form on page ${page.url} (status ${page.status}): ${page.html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const [tag] of form[2]!.matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    if (name) fields[name] = /value="([^"]*)"/.exec(tag)?.[1] ?? '';
  }
  return { action: new URL(form[1]!.replace(/&amp;/g, '&'), page.url).href, fields };
}

/** Signs in through the login page of an authorization request; returns the redirect to the RP. */
export async function signIn(agent: Agent, authorizationUrl: string, username: string, password: string, redirectUri: string): Promise<Page> {
  const login = await agent.follow(await agent.get(authorizationUrl), redirectUri);
  if (login.location?.startsWith(redirectUri)) return login;
  const { action, fields } = formOf(login);
  const afterLogin = await agent.postForm(action, { ...fields, username, password });
  return agent.follow(afterLogin, redirectUri);
}

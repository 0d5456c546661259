// Logging in to the web console over plain HTTP, as a browser would: fetch the log-in form (its CSRF
// cookie and field), post the token, keep the session cookie, and read a page's form token.
export interface ConsoleLogin {
  /** The Cookie header value carrying the session. */
  cookie: string;
  /** The session's CSRF token, as its forms carry it. */
  csrf: string;
}

/** Cookies as `name=value` from Set-Cookie headers. */
export function cookiesOf(response: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
  return cookies;
}

/** The log-in form's CSRF value and cookie. */
export async function loginForm(url: string): Promise<{ csrf: string; cookie: string }> {
  const response = await fetch(`${url}/ui/login`);
  const html = await response.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  const nonce = cookiesOf(response).get('rpmgate_login');
  if (!csrf || !nonce) throw new Error('the log-in form has no CSRF field or cookie');
  return { csrf, cookie: `rpmgate_login=${nonce}` };
}

/** Posts the log-in form; answers the raw response (303 and a session cookie on success). */
export async function postLogin(url: string, token: string, next = '/ui'): Promise<Response> {
  const form = await loginForm(url);
  return fetch(`${url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
    body: new URLSearchParams({ csrf: form.csrf, token, next }).toString(),
  });
}

export async function consoleLogin(url: string, token: string): Promise<ConsoleLogin> {
  const response = await postLogin(url, token);
  const session = cookiesOf(response).get('rpmgate_session');
  if (response.status !== 303 || !session) throw new Error(`log-in failed: HTTP ${response.status}`);
  const cookie = `rpmgate_session=${session}`;
  const page = await (await fetch(`${url}/ui`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error('the overview has no form token');
  return { cookie, csrf };
}

/** Posts a console form with the session's cookie. */
export function postForm(url: string, path: string, login: Pick<ConsoleLogin, 'cookie'>, fields: Record<string, string>): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: login.cookie },
    body: new URLSearchParams(fields).toString(),
  });
}

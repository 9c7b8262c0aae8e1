// A real OpenID Connect provider (panva/oidc-provider) on loopback for the O8Actors interop tests.
//
// Usage:  node server.mjs [--port N] [--clients JSON]
//         (or the environment variables OIDC_PORT and OIDC_CLIENTS)
//
// --port     TCP port on 127.0.0.1; 0 (the default) lets the OS pick a free one, which avoids any race with
//            other test runs. The issuer carries the port that was actually bound.
// --clients  A JSON object or array of client registrations, for example
//            {"client_id":"o8","client_secret":"...","redirect_uris":["https://localhost:41539/"]}.
//            Missing fields get the defaults below (web client, code + refresh_token, client_secret_basic).
//            Clients can also be added at runtime through dynamic registration (POST /reg, RFC 7591).
// --access-token-ttl  Access-token lifetime in seconds (default: oidc-provider's, one hour); the account tests use 5.
// --par      Pushed authorization requests (RFC 9126): off (the default, so authorize URLs carry login_hint for the
//            scripted browser), optional (advertised) or required (require_pushed_authorization_requests).
//
// Besides the ready line, stdout carries one JSON line per successful refresh-token grant, {"event":"refresh"}, so a
// test can count the refreshes the server saw.
// When listening, prints exactly one JSON line to stdout: {"ready":true,"issuer":"http://127.0.0.1:PORT"}.
// Everything else (oidc-provider's development notices, server errors) goes to stderr, so the line is easy to find.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';


const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    clients: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    'access-token-ttl': { type: 'string' },
    par: { type: 'string' },
  },
});

const verbose = args.verbose || process.env.OIDC_VERBOSE === '1';

// oidc-provider prints development-only notices (dev interactions, dev keys) through console.info/warn.
// They are expected here: keep them off stdout (which carries the ready line) and drop them unless asked for.
console.info = verbose ? (...a) => process.stderr.write(`${a.join(' ')}\n`) : () => {};
console.warn = console.info;
console.log = console.info;

// Imported only now, after the console is quiet: the module warns at load time (for example about the Node version).
const { default: Provider, errors } = await import('oidc-provider');

const resourceServerPrefix = 'https://api.o8-interop.example/';

function fail(message) {
  process.stderr.write(`oidc server: ${message}\n`);
  process.exit(2);
}

const portText = args.port ?? process.env.OIDC_PORT ?? '0';
const port = Number.parseInt(portText, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535 || String(port) !== portText.trim()) {
  fail(`the port must be an integer 0..65535, not '${portText}'`);
}

const ttlText = args['access-token-ttl'] ?? process.env.OIDC_ACCESS_TOKEN_TTL;
const accessTokenTtl = ttlText === undefined ? undefined : Number.parseInt(ttlText, 10);
if (accessTokenTtl !== undefined && (!Number.isInteger(accessTokenTtl) || accessTokenTtl < 1)) {
  fail(`--access-token-ttl must be a whole number of seconds, not '${ttlText}'`);
}

const par = args.par ?? process.env.OIDC_PAR ?? 'off';
if (!['off', 'optional', 'required'].includes(par)) fail(`--par must be off, optional or required, not '${par}'`);

let clientsInput;
try {
  clientsInput = JSON.parse(args.clients ?? process.env.OIDC_CLIENTS ?? '[]');
} catch (e) {
  fail(`--clients / OIDC_CLIENTS is not valid JSON: ${e.message}`);
}
const clientList = Array.isArray(clientsInput) ? clientsInput : [clientsInput];

// Defaults for every client: the shape O8Actors uses (a confidential web client whose redirect URI is the
// https loopback listener; 'native' clients refuse https on loopback hosts).
const clientDefaults = {
  application_type: 'web',
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

const clients = clientList.map((c, i) => {
  if (!c || typeof c !== 'object') fail(`client #${i} must be a JSON object`);
  if (!c.client_id) fail(`client #${i} has no client_id`);
  if (!Array.isArray(c.redirect_uris) || c.redirect_uris.length === 0) fail(`client '${c.client_id}' has no redirect_uris`);
  return { ...clientDefaults, ...c };
});

// Bind first, then build the provider: with port 0 the issuer must carry the port the OS picked.
const server = createServer();
server.on('error', (e) => fail(`cannot listen on 127.0.0.1:${port}: ${e.message}`));

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients,
    clientDefaults,
    // Any user name signs in; the account id is the name that was typed.
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, name: sub };
        },
      };
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: true }, // built-in login and consent pages: any user name, any password
      registration: { enabled: true }, // lets a test register a client for a listener port it learns late
      revocation: { enabled: true },
      // OpenID Connect Back-Channel Logout 1.0: ending a session at /session/end posts a logout token to every client of
      // that session with a backchannel_logout_uri (the server-mode apps of the tests; Node trusts mkcert's CA for them).
      backchannelLogout: { enabled: true },
      introspection: { enabled: true }, // lets a test ask whether a refresh token is still active (RFC 7662)
      // Signed UserInfo responses (application/jwt, OpenID Connect Core 1.0 section 5.3.2) for clients registered with
      // userinfo_signed_response_alg; the others keep plain JSON.
      jwtUserinfo: { enabled: true },
      // DPoP (RFC 9449) for clients registered with dpop_bound_access_tokens; every proof must carry the server's nonce,
      // so the client's nonce handling is exercised on the token endpoint and the userinfo endpoint alike.
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true, allowReplay: false },
      pushedAuthorizationRequests: { enabled: par !== 'off', requirePushedAuthorizationRequests: par === 'required' },
      deviceFlow: { enabled: true }, // RFC 8628: /device/auth, and the /device page where Chromium types the user code
      // RFC 8707: the APIs under https://api.o8-interop.example/ are resource servers with the scope api:read; their
      // access tokens are JWTs whose aud is the resource, so a test can read whom a token is for. Any other resource
      // is refused (invalid_target), as oidc-provider's default does for all of them.
      resourceIndicators: {
        enabled: true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (!resourceIndicator.startsWith(resourceServerPrefix)) throw new errors.InvalidTarget();
          return { scope: 'api:read', audience: resourceIndicator, accessTokenFormat: 'jwt' };
        },
      },
    },
    ...(accessTokenTtl === undefined ? {} : { ttl: { AccessToken: accessTokenTtl } }),
    // oidc-provider's outgoing requests (back-channel logout) refuse loopback addresses, an SSRF guard right for a real
    // provider; here every app is on loopback, so a request to a loopback host goes without that guard and nothing else does.
    fetch(url, options) {
      const { hostname } = new URL(url);
      if (['localhost', '127.0.0.1', '[::1]'].includes(hostname)) delete options.dispatcher;
      return globalThis.fetch(url, options);
    },
    // PKCE on every authorization request, confidential clients included (RFC 9700 section 2.1.1).
    pkce: { required: () => true },
    // A refresh token whenever the client may use one, with or without offline_access + prompt=consent:
    // the orchestrator's requests should not need provider-specific parameters to get one.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Rotate on every use, so the tests see refresh-token rotation (RFC 9700 section 4.14.2).
    rotateRefreshToken: true,
    scopes: ['openid', 'offline_access', 'profile'],
    claims: { openid: ['sub'], profile: ['name'] },
    // Error pages must not load anything from the internet either.
    async renderError(ctx, out) {
      ctx.type = 'html';
      const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
      ctx.body = `<!DOCTYPE html><title>oidc-provider error</title><h1>oops! something went wrong</h1>${
        Object.entries(out).map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(v)}</pre>`).join('')}`;
    },
  });

  // Server errors go to stderr (message only: never a request body, so no secret reaches the output).
  provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc server_error: ${err.message}\n`));

  // A back-channel logout the app refused or never answered: the message only (it names the URI and the status).
  provider.on('backchannel.error', (_ctx, err) => process.stderr.write(`oidc backchannel.error: ${err.message}${err.cause ? ` (${err.cause.code ?? ""} ${err.cause.message})` : ""}\n`));

  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') process.stdout.write(`${JSON.stringify({ event: 'refresh' })}\n`);
  });

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
});

// The C# fixture kills the process tree; these make a plain Ctrl-C or SIGTERM stop it promptly too.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
// If the parent closes our stdin (the test host died), stop rather than linger.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

// A real OAuth 2 authorization server for mcpcred's tests: oidc-provider on
// 127.0.0.1, set up as docs/oauth.md and the MCP authorization spec need it.
//
//   node server.js [--port N] [--ttl SECONDS] [--consent auto|interactive]
//                  [--no-require-resource] [--device-ttl SECONDS] [--slow-down]
//                  [--exit-with-stdin]
//
// --port 0 (the default) picks a free port. When the server listens it prints its
// issuer URL, alone on one line, on stdout; everything else goes to stderr.
// --exit-with-stdin stops it when its stdin closes: a test harness that holds the
// pipe open stops it by exiting, however it exits.
//
// What it does:
//   - open dynamic client registration at /reg (RFC 7591) and registration
//     management (RFC 7592: DELETE /reg/<client_id> with the registration access
//     token deletes the client, for invalid_client tests);
//   - authorization code with PKCE (S256 only, required), the user "test-user"
//     logged in without a password; consent granted automatically (--consent auto,
//     the default) or on a page with Allow and Deny buttons (--consent interactive):
//     GET /interaction/<uid> shows it, POST /interaction/<uid>/allow or /deny answers;
//   - resource indicators (RFC 8707) required on every token request (answer:
//     invalid_target) unless --no-require-resource; the access token's audience is
//     the resource;
//   - opaque access tokens living --ttl seconds (default 2), or the registered
//     client's own "x_access_token_ttl" metadata; refresh tokens rotated on every
//     use, issued to clients that have the refresh_token grant (no offline_access
//     needed), not bound to the login session; reusing a rotated refresh token
//     revokes the whole grant (oidc-provider's own rule);
//   - token revocation at /token/revocation (RFC 7009), for invalid_grant tests;
//   - the device authorization grant (RFC 8628): /device/auth, the user code page
//     at /device (confirmed by its Continue button), a polling interval of 1 s in
//     every answer, device codes living --device-ttl seconds (default 600); with
//     --slow-down the first poll of each device code is answered slow_down;
//   - the client credentials grant, for clients registered with it.
//
// Test hooks (loopback only, no authentication):
//   GET /admin/token-requests[?client_id=ID]  every POST /token seen, oldest first:
//       [{"grant_type","client_id","resource","scope","status","error","at"}]
//       (at: milliseconds since the epoch)
//   GET /admin/access-token?token=T           {"active":bool,"aud","client_id","exp"}
//       (an access token of any grant, client credentials included)
//   GET /admin/registrations                  every client registered at /reg, oldest first:
//       [{"client_id","redirect_uris","application_type","grant_types","token_endpoint_auth_method"}]
import { createServer } from 'node:http';
import * as querystring from 'node:querystring';
import { format } from 'node:util';

// stdout carries only the issuer line: oidc-provider's notices go to stderr.
console.log = (...args) => { process.stderr.write(`${format(...args)}\n`); };
console.info = console.log;

const { default: Provider } = await import('oidc-provider');

function parseArgs(argv) {
  const opts = {
    port: 0, ttl: 2, consent: 'auto', requireResource: true, exitWithStdin: false,
    deviceTTL: 600, slowDown: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (name) {
      case '--port': opts.port = Number(value()); break;
      case '--ttl': opts.ttl = Number(value()); break;
      case '--consent': opts.consent = value(); break;
      case '--no-require-resource': opts.requireResource = false; break;
      case '--device-ttl': opts.deviceTTL = Number(value()); break;
      case '--slow-down': opts.slowDown = true; break;
      case '--exit-with-stdin': opts.exitWithStdin = true; break;
      default:
        process.stderr.write(`oauth-as: unknown argument ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!['auto', 'interactive'].includes(opts.consent)) {
    process.stderr.write('oauth-as: --consent is auto or interactive\n');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// The port must be known before the Provider is built (the issuer names it), so
// take a free one first, then listen on it.
async function freePort(port) {
  if (port) return port;
  const probe = createServer();
  await new Promise((resolve) => { probe.listen(0, '127.0.0.1', resolve); });
  const { port: p } = probe.address();
  await new Promise((resolve) => { probe.close(resolve); });
  return p;
}

const port = await freePort(opts.port);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [],
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  },
  extraClientMetadata: {
    properties: ['x_access_token_ttl'],
    validator(ctx, key, value) {
      if (key === 'x_access_token_ttl' && value !== undefined
        && !(Number.isInteger(value) && value > 0)) {
        throw new Error('x_access_token_ttl must be a positive integer');
      }
    },
  },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
    revocation: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: 'mcp:tools',
        audience: resource,
        accessTokenTTL: client?.x_access_token_ttl ?? opts.ttl,
        accessTokenFormat: 'opaque',
      }),
    },
  },
  scopes: ['openid', 'offline_access', 'mcp:tools'],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  clockTolerance: 0,
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['mcpcred-test-only-cookie-key'] },
  ttl: {
    // The resource server's accessTokenTTL does not win over this one.
    AccessToken: (ctx, token, client) => client?.x_access_token_ttl ?? opts.ttl,
    ClientCredentials: (ctx, token, client) => client?.x_access_token_ttl ?? opts.ttl,
    DeviceCode: opts.deviceTTL,
    Grant: 14 * 24 * 3600,
    Interaction: 3600,
    RefreshToken: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
  },
});

// Token requests and registrations as they arrived, for the admin hooks.
const tokenRequests = [];
const registrations = [];
// Device codes already answered slow_down once (--slow-down).
const slowed = new Set();

function basicClientID(header) {
  const m = /^Basic (.+)$/i.exec(header || '');
  if (!m) return undefined;
  const creds = Buffer.from(m[1], 'base64').toString();
  const colon = creds.indexOf(':');
  return decodeURIComponent(colon >= 0 ? creds.slice(0, colon) : creds);
}

async function readRaw(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function send(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

// One page per prompt, for --consent interactive.
function promptPage(uid, details) {
  const client = details.params.client_id;
  const what = details.prompt.name === 'login' ? 'Sign in as test-user' : `Allow ${client} to use mcp:tools`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${details.prompt.name}</title></head><body>
<h1>${what}?</h1>
<form method="post" action="/interaction/${uid}/allow"><button type="submit" name="allow" value="1">Allow</button></form>
<form method="post" action="/interaction/${uid}/deny"><button type="submit" name="deny" value="1">Deny</button></form>
</body></html>`;
}

// The result that answers the current prompt: log test-user in, or grant every
// scope and resource the request asked for.
async function allow(details) {
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    return { login: { accountId: 'test-user' } };
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const d = prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  if (d.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return { consent: { grantId: await grant.save() } };
}

provider.use(async (ctx, next) => {
  const { path, method } = ctx;

  if (path === '/admin/token-requests' && method === 'GET') {
    const id = ctx.query.client_id;
    send(ctx, 200, tokenRequests.filter((r) => !id || r.client_id === id));
    return;
  }
  if (path === '/admin/registrations' && method === 'GET') {
    send(ctx, 200, registrations);
    return;
  }
  if (path === '/reg' && method === 'POST') {
    await next();
    if (ctx.status === 201) {
      const body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) : ctx.body;
      registrations.push({
        client_id: body.client_id,
        redirect_uris: body.redirect_uris,
        application_type: body.application_type,
        grant_types: body.grant_types,
        token_endpoint_auth_method: body.token_endpoint_auth_method,
      });
    }
    return;
  }
  if (path === '/admin/access-token' && method === 'GET') {
    const token = ctx.query.token ? String(ctx.query.token) : undefined;
    const at = token ? await provider.AccessToken.find(token) : undefined;
    // A client credentials token has no grant: active while it lives.
    const cc = token && !at ? await provider.ClientCredentials.find(token) : undefined;
    if (cc && !cc.isExpired) {
      send(ctx, 200, {
        active: true, aud: cc.aud, client_id: cc.clientId, exp: cc.exp,
      });
      return;
    }
    if (!at || at.isExpired) {
      send(ctx, 200, { active: false });
      return;
    }
    const grant = await provider.Grant.find(at.grantId);
    send(ctx, 200, {
      active: Boolean(grant), aud: at.aud, client_id: at.clientId, exp: at.exp,
    });
    return;
  }

  const interaction = /^\/interaction\/([^/]+)(?:\/(allow|deny))?$/.exec(path);
  if (interaction) {
    const [, uid, answer] = interaction;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) {
      send(ctx, 400, { error: 'interaction not found' });
      return;
    }
    let result;
    if (opts.consent === 'interactive' && method === 'GET' && !answer) {
      ctx.type = 'html';
      ctx.body = promptPage(uid, details);
      return;
    }
    if (answer === 'deny') {
      result = { error: 'access_denied', error_description: 'the user said no' };
    } else if (answer === 'allow' || opts.consent === 'auto') {
      result = await allow(details);
    } else {
      send(ctx, 405, { error: 'use GET or POST /allow or /deny' });
      return;
    }
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true }));
    return;
  }

  if (path === '/token' && method === 'POST') {
    // Read the body here (oidc-provider then uses this parsed copy) to log it and
    // to require a resource indicator before the grant runs.
    const raw = await readRaw(ctx.req);
    ctx.req.body = raw;
    const form = querystring.parse(raw);
    const entry = {
      grant_type: form.grant_type ?? null,
      client_id: form.client_id ?? basicClientID(ctx.get('authorization')) ?? null,
      resource: form.resource ?? null,
      scope: form.scope ?? null,
      status: 0,
      error: null,
      at: Date.now(),
    };
    tokenRequests.push(entry);
    if (opts.slowDown && form.grant_type === 'urn:ietf:params:oauth:grant-type:device_code'
      && !slowed.has(form.device_code)) {
      slowed.add(form.device_code);
      entry.status = 400;
      entry.error = 'slow_down';
      send(ctx, 400, { error: 'slow_down', error_description: 'poll more slowly' });
      return;
    }
    if (opts.requireResource && !form.resource) {
      entry.status = 400;
      entry.error = 'invalid_target';
      send(ctx, 400, { error: 'invalid_target', error_description: 'a resource indicator is required' });
      return;
    }
    await next();
    entry.status = ctx.status;
    try {
      entry.error = (typeof ctx.body === 'string' ? JSON.parse(ctx.body) : ctx.body)?.error ?? null;
    } catch {
      entry.error = null;
    }
    return;
  }

  if (path === '/device/auth' && method === 'POST') {
    await next();
    if (ctx.status === 200) {
      const body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) : ctx.body;
      send(ctx, 200, { ...body, interval: 1 });
    }
    return;
  }

  await next();
});

const server = createServer(provider.callback());
// Node closes an idle keep-alive connection after 5 s, a moment before a device
// poll slowed down to 6 s reuses it, and the poll then meets a reset connection.
// Real servers keep idle connections for a minute or more: so does this one.
server.keepAliveTimeout = 120000;
server.headersTimeout = 121000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${issuer}\n`);
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => process.exit(0));
}
if (opts.exitWithStdin) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

// A local OpenID Connect provider playing Inera's IdP for SITHS in brygga's tests (panva/oidc-provider).
// Started by tests/idp_oidc.py with a JSON config on stdin; prints "READY <issuer>" when it listens.
// Signing keys are generated at start. Accounts carry Inera's attribute names as claims (integrations.md §1).
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const input = await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(JSON.parse(data)));
});

const server = createServer();
await new Promise((resolve) => server.listen(input.port || 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const accounts = input.accounts;
const sithsClaims = [
  'employeeHsaId', 'commissionHsaId', 'commissionName', 'commissionPurpose', 'healthCareUnitHsaId',
  'healthCareProviderHsaId', 'healthcareProfessionalLicense', 'title',
];

const provider = new Provider(issuer, {
  clients: input.clients,
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['brygga-test-op-cookie-key'] },
  scopes: ['openid', 'profile'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    acr: null,
    sid: null,
    ...Object.fromEntries(sithsClaims.map((c) => [c, null])),
  },
  acrValues: ['http://id.sambi.se/loa/loa2', 'http://id.sambi.se/loa/loa3'],
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="sv"><head><title>Logga ut</title></head><body><main>
          <h1>Logga ut från SITHS-inloggningen?</h1>${form}
          <button type="submit" form="op.logoutForm" name="logout" value="yes">Logga ut</button></main></body></html>`;
      },
    },
    backchannelLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account.claims }; } };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  // The relying party under test listens on 127.0.0.1, which the provider's SSRF guard refuses by default.
  fetch(url, options) {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 600, AccessToken: 600, AuthorizationCode: 60 },
});
provider.proxy = false;

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    const options = Object.entries(accounts)
      .map(([id, a]) => `<option value="${escape(id)}">${escape(a.label || id)}</option>`).join('');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="sv"><head><title>SITHS-inloggning (test)</title></head><body><main>
      <h1>SITHS-inloggning (test-IdP)</h1>
      <form method="post" action="/interaction/${escape(uid)}/login">
        <label for="account">Kort och medarbetaruppdrag</label>
        <select id="account" name="account">${options}</select>
        <button type="submit">Logga in</button>
      </form></main></body></html>`);
    return;
  }
  if (action !== 'login') { res.statusCode = 404; res.end(); return; }
  const { account } = await readForm(req);
  if (!accounts[account]) { res.statusCode = 400; res.end('unknown account'); return; }
  const acr = accounts[account].acr || 'http://id.sambi.se/loa/loa3';
  const grant = new provider.Grant({ accountId: account, clientId: details.params.client_id });
  grant.addOIDCScope('openid profile');
  grant.addOIDCClaims(['acr', 'sid', 'given_name', 'family_name', ...sithsClaims]);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId: account, acr, amr: ['smartcard', 'pin'] },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)(?:\/([a-z]+))?/);
  if (!match) return callback(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
provider.on('backchannel.error', (ctx, err) => process.stderr.write(`backchannel error: ${err}\n`));
process.stdout.write(`READY ${issuer}\n`);

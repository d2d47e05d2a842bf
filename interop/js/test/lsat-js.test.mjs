// lsat-js (Tierion, the LSAT helper library boltwall and many JS clients use) against our proxy:
// it must parse our challenges and the token it builds must be accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import lsatJs from 'lsat-js';
import { Invoice } from '@getalby/lightning-tools/bolt11';
import {
  WEATHER_URL, SIMILARITY_URL, payInvoice, rawRequest, wwwAuthenticateFields, param, short,
} from '../lib.mjs';

const { Lsat, Identifier } = lsatJs;

/** The invoice's payment hash, decoded by a second, independent BOLT11 decoder (Alby's). */
const invoiceHash = (bolt11) => new Invoice({ pr: bolt11 }).paymentHash;

/** Checks one parsed Lsat against the 402's JSON body and the challenge text. */
function checkParsed(lsat, body, challenge, service) {
  assert.equal(lsat.paymentHash, body.payment_hash, 'payment hash vs JSON body');
  assert.equal(lsat.paymentHash, invoiceHash(body.invoice), 'payment hash vs invoice p tag');
  assert.equal(lsat.invoice, body.invoice, 'invoice vs JSON body');
  assert.equal(lsat.invoice, param(challenge, 'invoice'), 'invoice vs challenge');
  assert.equal(lsat.baseMacaroon, param(challenge, 'macaroon'), 'macaroon vs challenge');
  assert.equal(lsat.invoiceAmount, body.price_sat, 'invoice amount (sat)');
  const id = Identifier.fromString(lsat.id);
  assert.equal(id.version, 0, 'identifier version');
  assert.equal(id.paymentHash.toString('hex'), body.payment_hash, 'identifier payment hash');
  const caveats = lsat.getCaveats().map((c) => c.encode());
  assert.ok(caveats.includes(`services=${service}:0`), `services caveat in ${JSON.stringify(caveats)}`);
  return caveats;
}

async function challenge(url, init) {
  const raw = await rawRequest(url, init);
  assert.equal(raw.status, 402, raw.body);
  const fields = wwwAuthenticateFields(raw);
  const res = await fetch(url, init); // a second, independent challenge, as fetch() sees it
  assert.equal(res.status, 402);
  return { raw, fields, body: JSON.parse(raw.body), folded: res.headers.get('www-authenticate'), foldedBody: await res.json() };
}

// lsat-js 2.0.6 depends on a git fork of js-macaroon; package.json overrides it with the
// registry's macaroon@3.0.4 (see README). First check lsat-js still reads its own test vector
// (tests/data.ts, an Aperture challenge) with that substitution.
test('lsat-js (with macaroon@3.0.4) parses the Aperture challenge from its own test data', () => {
  const aperture =
    'LSAT macaroon="AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD", invoice="lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms"';
  const lsat = Lsat.fromHeader(aperture);
  assert.equal(lsat.paymentHash, '30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff');
  assert.equal(lsat.invoiceAmount, 10);
  assert.deepEqual(lsat.getCaveats().map((c) => c.encode()), ['services=meme:0', 'meme_capabilities=']);
  assert.equal(Identifier.fromString(lsat.id).tokenId.toString('hex'),
    '349f9841a5229366dd5cf1bb30aa2e1129e4a1a2c8f2d433d2fe91c07bbb34be');
});

test('lsat-js parses each WWW-Authenticate field and the folded fetch() value', async (t) => {
  const c = await challenge(WEATHER_URL);
  assert.equal(c.fields.length, 2, 'two WWW-Authenticate fields');
  assert.match(c.fields[0], /^LSAT macaroon="[^"]+", invoice="lnbcrt[^"]+"$/);
  assert.match(c.fields[1], /^L402 macaroon="[^"]+", invoice="lnbcrt[^"]+"$/);
  for (const [i, field] of c.fields.entries()) {
    const lsat = Lsat.fromHeader(field);
    const caveats = checkParsed(lsat, c.body, field, 'weather');
    if (i === 0) t.diagnostic(`caveats lsat-js reads: ${JSON.stringify(caveats)}`);
    // lsat-js's own serialisation of the challenge is byte-for-byte our LSAT field.
    assert.equal(lsat.toChallenge(), c.fields[0], 'toChallenge() round trip');
  }
  t.diagnostic(`folded value fetch() gives: ${short(c.folded, 60)}`);
  assert.ok(c.folded.startsWith('LSAT macaroon='), 'folded value starts with the LSAT challenge');
  assert.ok(c.folded.includes(', L402 macaroon='), 'folded value holds the L402 challenge after ", "');
  checkParsed(Lsat.fromHeader(c.folded), c.foldedBody, c.folded.split(', L402 ')[0], 'weather');
});

test('lsat-js token (toToken) is accepted for GET /api/weather', async (t) => {
  const c = await challenge(WEATHER_URL);
  const lsat = Lsat.fromHeader(c.folded);
  const paid = await payInvoice(lsat.invoice);
  lsat.setPreimage(paid.preimage); // throws if sha256(preimage) != payment hash
  assert.ok(lsat.isSatisfied());
  const token = lsat.toToken();
  t.diagnostic(`lsat-js toToken() emits: ${short(token, 30)} (scheme "${token.split(' ')[0]}", preimage ${token.split(':')[1].length} hex)`);
  assert.match(token, /^LSAT [A-Za-z0-9+/=]+:[0-9a-f]{64}$/);
  assert.equal(Lsat.fromToken(token).paymentHash, lsat.paymentHash, 'fromToken round trip');

  // Control: the same macaroon with a wrong preimage must not be served.
  const forged = `LSAT ${lsat.baseMacaroon}:${'0'.repeat(64)}`;
  const bad = await fetch(WEATHER_URL, { headers: { authorization: forged } });
  assert.notEqual(bad.status, 200, 'wrong preimage accepted');
  t.diagnostic(`same macaroon with a wrong preimage: ${bad.status}`);

  const res = await fetch(WEATHER_URL, { headers: { authorization: token } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const weather = JSON.parse(text);
  assert.equal(weather.city, 'Paris');
  assert.equal(typeof weather.temp_c, 'number');
  t.diagnostic(`server answered 200 ${text}`);
});

test('lsat-js token is accepted for POST /api/similarity (capability compute)', async (t) => {
  const init = {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: [1, 2, 3], b: [2, 4, 6] }),
  };
  const c = await challenge(SIMILARITY_URL, init);
  const lsat = Lsat.fromHeader(c.folded);
  const caveats = checkParsed(lsat, c.foldedBody, c.folded.split(', L402 ')[0], 'similarity');
  assert.ok(caveats.includes('similarity_capabilities=compute'), JSON.stringify(caveats));
  assert.equal(lsat.invoiceAmount, 5);
  lsat.setPreimage((await payInvoice(lsat.invoice)).preimage);

  const res = await fetch(SIMILARITY_URL, { ...init, headers: { ...init.headers, authorization: lsat.toToken() } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const out = JSON.parse(text);
  assert.equal(out.dimensions, 3);
  assert.ok(Math.abs(out.cosine - 1) < 1e-9, text);
  t.diagnostic(`server answered 200 ${text}`);
});

// mppx as the client and verifier of `l402 serve`'s Payment scheme: mppx's fetch wrapper pays
// our Lightning charge challenges with the small Lightning method of ../lightning.mjs, parses
// our challenges (also next to L402 ones), our receipts and our problem details, and computes
// the same HMAC-bound challenge ids from the seller's secret.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Challenge, Credential, Receipt } from 'mppx';
import { Mppx } from 'mppx/client';
import { chargeClient, devWallet, sha256hex } from '../lightning.mjs';

const BASE = process.env.L402_BASE_URL;
const DATA_DIR = process.env.L402_DATA_DIR;
const SECRET = process.env.L402_MPP_SECRET;
const REALM = process.env.L402_MPP_REALM;
for (const [k, v] of Object.entries({ BASE, DATA_DIR, SECRET, REALM })) {
  if (!v) throw new Error(`${k} is not set (run scripts/tiers/mppx.sh)`);
}
const MPP_URL = `${BASE}/mpp/hello.txt`;
const BOTH_URL = `${BASE}/both/hello.txt`;
const wallet = devWallet(DATA_DIR);
const PROBLEMS = 'https://paymentauth.org/problems/';

test('mppx pays a Payment charge challenge of l402 serve and reads its receipt', async () => {
  const paid = [];
  const mppx = Mppx.create({ methods: [chargeClient(wallet, paid)], polyfill: false });
  const res = await mppx.fetch(MPP_URL);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /hello from the mpp upstream/);
  assert.equal(paid.length, 1);
  const receipt = Receipt.fromResponse(res);
  assert.equal(receipt.status, 'success');
  assert.equal(receipt.method, 'lightning');
  assert.equal(receipt.reference, paid[0].payment_hash, 'reference = payment hash');
  assert.equal(receipt.reference, sha256hex(paid[0].preimage));
  assert.equal(receipt.challengeId, paid[0].challengeId);
  assert.equal(res.headers.get('cache-control'), 'private');
});

test('mppx reads our 402: one Payment challenge next to the L402 pair, bound to our secret', async () => {
  const res = await fetch(BOTH_URL, { headers: { 'accept-payment': 'lightning/charge' } });
  assert.equal(res.status, 402);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  // fetch folds the three WWW-Authenticate lines into one value; mppx must split it.
  assert.match(res.headers.get('www-authenticate'), /^LSAT .*, L402 .*, Payment /);
  const challenges = Challenge.fromResponseList(res);
  assert.equal(challenges.length, 1);
  const [c] = challenges;
  assert.equal(c.method, 'lightning');
  assert.equal(c.intent, 'charge');
  assert.equal(c.realm, REALM);
  assert.equal(c.request.currency, 'sat');
  assert.equal(c.request.amount, '3');
  assert.equal(c.request.methodDetails.network, 'regtest');
  assert.match(c.request.methodDetails.paymentHash, /^[0-9a-f]{64}$/);
  // mppx keeps `opaque` as its wire string (`meta` is only set on challenges it builds).
  assert.deepEqual(JSON.parse(Buffer.from(c.opaque, 'base64url')), { scope: 'both' }, 'opaque: the service');
  assert.ok(c.expires, 'expires is set');
  // The id is the draft's HMAC, computed by mppx from the seller's secret.
  assert.equal(Challenge.verify(c, { secretKey: SECRET }), true);
  assert.equal(Challenge.verify(c, { secretKey: `${SECRET}x` }), false);
  assert.equal(Challenge.verify({ ...c, expires: '2099-01-01T00:00:00Z' }, { secretKey: SECRET }), false);
  const problem = await res.json();
  assert.equal(problem.type, `${PROBLEMS}payment-required`);
  assert.equal(problem.status, 402);
});

test('a credential mppx built is single-use, and refusals carry their problem types', async () => {
  const res = await fetch(MPP_URL);
  const [c] = Challenge.fromResponseList(res);
  const payment = await wallet.pay(c.request.methodDetails.invoice);
  const credential = Credential.serialize({ challenge: c, payload: { preimage: payment.preimage } });
  const first = await fetch(MPP_URL, { headers: { authorization: credential } });
  assert.equal(first.status, 200);
  await first.text();
  const replay = await fetch(MPP_URL, { headers: { authorization: credential } });
  assert.equal(replay.status, 402);
  const problem = await replay.json();
  assert.equal(problem.type, `${PROBLEMS}invalid-challenge`);
  assert.equal(problem.challengeId, c.id);
  const fresh = Challenge.fromResponseList(replay);
  assert.equal(fresh.length, 1, 'a refusal offers a fresh challenge');
  assert.notEqual(fresh[0].id, c.id);

  // Paid for one service, presented to another: refused, not served.
  const other = await fetch(BOTH_URL, { headers: { authorization: credential } });
  assert.equal(other.status, 402);
  assert.equal((await other.json()).type, `${PROBLEMS}invalid-challenge`);

  // A preimage of another invoice.
  const [c2] = Challenge.fromResponseList(await fetch(MPP_URL));
  const wrong = Credential.serialize({ challenge: c2, payload: { preimage: payment.preimage } });
  const refused = await fetch(MPP_URL, { headers: { authorization: wrong } });
  assert.equal(refused.status, 402);
  assert.equal((await refused.json()).type, `${PROBLEMS}lightning/invalid-preimage`);

  // mppx reads the credential we accepted back the same.
  const parsed = Credential.deserialize(credential);
  assert.equal(parsed.challenge.id, c.id);
  assert.equal(parsed.payload.preimage, payment.preimage);
});

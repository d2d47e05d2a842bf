// Alby's @getalby/lightning-tools against our proxy. Alby reads the challenge with
// fetch()'s headers.get('www-authenticate'), which folds our two fields (LSAT, then L402) into
// one comma-separated value: this checks our emission against a naive parser.
//
// 9.x (current): fetchWithL402(url, fetchArgs, { wallet }) with wallet.payInvoice({ invoice })
//   -> { preimage }; no token store, reuse is explicit via options.credentials.
// 5.x (legacy, still common): fetchWithL402(url, fetchArgs, { webln, store }) with
//   webln.sendPayment(invoice) -> { preimage }; caches { token, preimage } per full URL in store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchWithL402, fetch402, parseL402 } from '@getalby/lightning-tools/402';
import * as alby5 from 'alby-lightning-tools-5';
import {
  WEATHER_URL, payInvoice, payments, recordFetch, rawRequest, wwwAuthenticateFields, param, short,
} from '../lib.mjs';

/** Alby 9's Wallet interface, paying through the dev wallet's HTTP API. */
const wallet = {
  async payInvoice({ invoice }) {
    const paid = await payInvoice(invoice);
    return { preimage: paid.preimage, fees_paid: paid.fee_msat };
  },
};

/** Alby 5's WebLN-style provider, paying through the dev wallet's HTTP API. */
const webln = {
  async enable() {},
  async sendPayment(invoice) {
    const paid = await payInvoice(invoice);
    return { preimage: paid.preimage };
  },
};

async function expectWeather(res) {
  const text = await res.text();
  assert.equal(res.status, 200, `status ${res.status}: ${text}`);
  const weather = JSON.parse(text);
  assert.equal(weather.city, 'Paris');
  return text;
}

/** The Authorization header Alby sent on its last request (from the fetch recorder). */
const lastAuth = (log) => log.at(-1).authorization;

test('Alby parseL402 (9.x and 5.x) reads each field and the folded value', async () => {
  const raw = await rawRequest(WEATHER_URL);
  assert.equal(raw.status, 402);
  const fields = wwwAuthenticateFields(raw);
  const folded = fields.join(', '); // what fetch()'s headers.get() returns for the two fields
  for (const value of [...fields, folded]) {
    for (const parse of [parseL402, alby5.parseL402]) {
      const got = parse(value);
      // 9.x renames macaroon= to token=; 5.x returns the params as they are.
      assert.equal(got.token ?? got.macaroon, param(fields[0], 'macaroon'));
      assert.equal(got.invoice, param(fields[0], 'invoice'));
    }
  }
});

test('Alby 9 fetchWithL402 pays our folded challenge and its token is accepted', async (t) => {
  const rec = recordFetch();
  try {
    const before = payments.length;
    const res = await fetchWithL402(WEATHER_URL, {}, { wallet });
    const text = await expectWeather(res);
    assert.equal(payments.length - before, 1, 'one payment');
    assert.equal(rec.log.length, 2, 'unpaid request, then the paid retry');
    assert.equal(rec.log[0].status, 402);
    const sent = lastAuth(rec.log);
    t.diagnostic(`Alby saw www-authenticate: ${short(rec.log[0].wwwAuthenticate, 50)}`);
    t.diagnostic(`Alby sent Authorization: ${short(sent, 30)}; server answered 200 ${text}`);
    // Alby keeps the scheme of the (first) challenge: the folded value starts with LSAT.
    assert.match(sent, /^LSAT [A-Za-z0-9+/=]+:[0-9a-f]{64}$/);
    assert.equal(res.payment.credentials.value, sent);
    assert.equal(res.payment.amountSat, 2, 'Alby decoded the invoice amount');

    // Second plain call: 9.x keeps no token store, so it pays again.
    const res2 = await fetchWithL402(WEATHER_URL, {}, { wallet });
    await expectWeather(res2);
    const repaid = payments.length - before - 1;
    t.diagnostic(`second plain fetchWithL402 call made ${repaid} new payment(s) (9.x has no token cache)`);
    assert.equal(repaid, 1);

    // Explicit reuse: the credential from the first call, no payment.
    const res3 = await fetchWithL402(WEATHER_URL, {}, { wallet, credentials: res.payment.credentials });
    await expectWeather(res3);
    assert.equal(payments.length - before, 2, 'reusing credentials pays nothing');
    assert.equal(lastAuth(rec.log), sent, 'reused credential sent verbatim');
  } finally {
    rec.restore();
  }
});

test('Alby 9 fetch402 (generic 402 client) pays within maxAmount and refuses above it', async (t) => {
  const before = payments.length;
  const res = await fetch402(WEATHER_URL, {}, { wallet, maxAmount: 2 });
  await expectWeather(res);
  assert.equal(payments.length - before, 1);
  await assert.rejects(fetch402(WEATHER_URL, {}, { wallet, maxAmount: 1 }), (e) => {
    t.diagnostic(`maxAmount 1 sat: ${e.name}: ${e.cause?.message ?? e.message}`);
    return e.name === 'Fetch402InterruptedError' && e.paid === false && e.amountSat === 2;
  });
  assert.equal(payments.length - before, 1, 'nothing paid above maxAmount');
});

test('Alby 5 fetchWithL402 (webln + store) pays once for two calls and its token is accepted', async (t) => {
  const rec = recordFetch();
  try {
    const before = payments.length;
    const store = new alby5.MemoryStorage();
    const res = await alby5.fetchWithL402(WEATHER_URL, {}, { webln, store });
    const text = await expectWeather(res);
    assert.equal(payments.length - before, 1, 'one payment');
    assert.equal(rec.log[0].status, 402);
    assert.equal(rec.log[0].acceptAuthenticate, 'L402');
    const sent = lastAuth(rec.log);
    t.diagnostic(`Alby 5 sent Accept-Authenticate: L402, then Authorization: ${short(sent, 30)}; server answered 200 ${text}`);
    // 5.x always uses options.headerKey (default "L402"), whatever the challenge scheme.
    assert.match(sent, /^L402 [A-Za-z0-9+/=]+:[0-9a-f]{64}$/);

    const res2 = await alby5.fetchWithL402(WEATHER_URL, {}, { webln, store });
    await expectWeather(res2);
    assert.equal(payments.length - before, 1, 'second call served from the store, no new payment');
    assert.equal(rec.log.length, 3, 'second call is a single request with the cached token');
    assert.equal(lastAuth(rec.log), sent);
    t.diagnostic('second call reused the stored token: 1 payment for 2 calls');
  } finally {
    rec.restore();
  }
});

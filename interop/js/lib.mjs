// Shared helpers for the interop tests: where the proxy is, raw challenge fetching, and paying
// through the dev wallet's loopback HTTP API. Everything protocol-related is left to the
// library under test; these helpers only move bytes.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

export const BASE = mustEnv('L402_BASE_URL'); // e.g. http://127.0.0.1:40123
const DATA_DIR = mustEnv('L402_DATA_DIR');
export const WEATHER_URL = `${BASE}/api/weather?city=Paris`;
export const SIMILARITY_URL = `${BASE}/api/similarity`;

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/tiers/interop-js.sh)`);
  return v;
}

/** Every payment made through payInvoice(), in order, for counting. */
export const payments = [];

// Captured before any test wraps globalThis.fetch, so wallet calls are never recorded.
const realFetch = globalThis.fetch;

/** Pays a BOLT11 invoice issued by the dev wallet; returns the wallet's JSON answer. */
export async function payInvoice(bolt11) {
  const wallet = JSON.parse(readFileSync(join(DATA_DIR, 'dev-wallet.json'), 'utf8'));
  const res = await realFetch(`${wallet.url}/v1/payments`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${wallet.access_token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ bolt11, max_fee_msat: 0, timeout_ms: 10000 }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`dev wallet payment failed: ${res.status} ${JSON.stringify(body)}`);
  payments.push({ bolt11, payment_hash: body.payment_hash });
  return body; // { preimage, fee_msat, amount_msat, payment_hash }
}

/**
 * One raw HTTP/1.1 request with node:http, which keeps repeated header fields apart
 * (fetch() folds them). Returns { status, headers: [[name, value], ...], body }.
 */
export function rawRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const pairs = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode, headers: pairs, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The separate WWW-Authenticate field values of a raw response, in order. */
export function wwwAuthenticateFields(raw) {
  return raw.headers.filter(([k]) => k.toLowerCase() === 'www-authenticate').map(([, v]) => v);
}

/** `name="value"` from one challenge value (test-side extraction, for comparisons only). */
export function param(challenge, name) {
  const m = challenge.match(new RegExp(`${name}="([^"]*)"`));
  if (!m) throw new Error(`no ${name}= in ${challenge}`);
  return m[1];
}

/** Wraps globalThis.fetch to record each proxy request's headers and the response's challenge. */
export function recordFetch() {
  const log = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (url, init = {}) => {
    const sent = new Headers(init.headers ?? undefined);
    const res = await original(url, init);
    if (!String(url).startsWith(BASE)) return res;
    log.push({
      url: String(url),
      authorization: sent.get('authorization'),
      acceptAuthenticate: sent.get('accept-authenticate'),
      status: res.status,
      wwwAuthenticate: res.headers.get('www-authenticate'),
    });
    return res;
  };
  return { log, restore: () => { globalThis.fetch = original; } };
}

export const short = (s, n = 40) => (s && s.length > n ? `${s.slice(0, n)}...(${s.length} chars)` : s);

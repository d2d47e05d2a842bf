// mppx as the server, paid by `l402 fetch`: mppx issues the Payment challenges (its own
// challenge-id HMAC, request encoding, receipt) and verifies credentials; the handler mints an
// invoice on our dev wallet per challenge and the small Lightning method of ../lightning.mjs
// checks preimages; our client pays and presents them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Credential } from 'mppx';
import { Mppx, NodeListener } from 'mppx/server';
import { chargeRequest, chargeServer, devWallet } from '../lightning.mjs';

const DATA_DIR = process.env.L402_DATA_DIR;
const BIN = process.env.L402_BIN;
if (!DATA_DIR || !BIN) throw new Error('L402_DATA_DIR / L402_BIN not set (run scripts/tiers/mppx.sh)');
const wallet = devWallet(DATA_DIR);

/** An mppx server selling GET / for `amount` sat; `seen` records what it verified. */
async function mppxServer(amount, seen) {
  const lightning = chargeServer(seen);
  const mppx = Mppx.create({ methods: [lightning], secretKey: 'mppx-tier-secret-0123456789abcdef0123456789', realm: 'mppx-server.test' });
  const server = createServer(async (req, res) => {
    const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers });
    seen.accept = req.headers['accept-payment'];
    // A fresh invoice for every challenge; a credential is checked against the request it
    // echoes (mppx compares the two, and its HMAC binds the echo to this server).
    let route;
    if (req.headers.authorization) {
      route = Credential.fromRequest(request).challenge.request;
    } else {
      route = await chargeRequest(wallet, amount, 'mppx tier');
    }
    const result = await mppx['lightning/charge'](route)(request);
    if (result.status === 402) return NodeListener.sendResponse(res, result.challenge);
    return NodeListener.sendResponse(res, result.withReceipt(new Response('paid through mppx\n')));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

async function l402Fetch(url) {
  const config = join(tmpdir(), `l402-mppx-client-${process.pid}.toml`);
  writeFileSync(config, '[payment]\nprefer = ["mpp"]\n');
  const { stdout } = await promisify(execFile)(BIN, ['fetch', '--json', url], {
    env: { ...process.env, L402_DATA_DIR: DATA_DIR, L402_CLIENT_CONFIG: config, NO_COLOR: '1' },
  });
  return JSON.parse(stdout);
}

test('l402 fetch pays an mppx server\'s Lightning charge challenge', async () => {
  const seen = [];
  const { server, url } = await mppxServer(4, seen);
  try {
    const json = await l402Fetch(url);
    assert.equal(json.status, 200, JSON.stringify(json));
    assert.equal(json.body, 'paid through mppx\n');
    assert.equal(json.paid.scheme, 'mpp');
    assert.equal(json.paid.amount_sat, 4);
    assert.equal(seen.length, 1, 'mppx verified one credential');
    assert.equal(json.paid.payment_hash, seen[0].hash);
    assert.equal(json.payment_receipt.reference, seen[0].hash, 'our client read mppx\'s receipt');
    assert.equal(json.payment_receipt.challengeId, seen[0].id);
    assert.equal(seen.accept, 'lightning/charge, lightning/session', 'Accept-Payment sent: both Lightning intents we pay');
  } finally {
    server.close();
  }
});

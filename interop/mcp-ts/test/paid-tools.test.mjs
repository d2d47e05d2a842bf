// Paid MCP tool calls sold by `l402 serve` (`mcp = true`), with the official TypeScript SDK on
// both ends: the upstream is an SDK server (upstream/server.mjs, SSE under /mcp, JSON under
// /json), the agent an SDK client. Inputs, from scripts/tiers/mcp-ts.sh:
//   MCP_CMD_JSON       JSON array: the `l402 mcp` command
//   PAID_MCP_URL       the seller's MCP endpoint whose upstream answers in SSE
//   PAID_MCP_JSON_URL  the same, upstream answering in JSON
//   UPSTREAM_SEEN_URL  what the upstream served (GET, JSON)
//   L402_*, XDG_*      the buyer's environment (its dev wallet pays the seller's invoices)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/tiers/mcp-ts.sh)`);
  return v;
};
const CALL_TIMEOUT = { timeout: 60_000 };
const RECEIPT = 'org.paymentauth/receipt';
const textOf = (result) =>
  (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const seen = async () => (await fetch(need('UPSTREAM_SEEN_URL'))).json();

function buyerEnv() {
  const env = getDefaultEnvironment();
  for (const [k, v] of Object.entries(process.env)) {
    if ((k.startsWith('L402_') || k.startsWith('XDG_')) && v !== undefined) env[k] = v;
  }
  // The other tests spend the tight daily budget; these calls get their own room.
  env.L402_DAILY_BUDGET_SAT = '100';
  env.L402_TOTAL_BUDGET_SAT = '200';
  return env;
}

test('the SDK client of l402 serve: a priced call unpaid is -32042 with a Lightning charge', async () => {
  const client = new Client({ name: 'l402-mcp-ts-direct', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(need('PAID_MCP_URL'))), CALL_TIMEOUT);
  try {
    assert.deepEqual(client.getServerCapabilities()?.experimental?.payment, {
      methods: { lightning: { intents: ['charge'] } },
    });
    const { tools } = await client.listTools(undefined, CALL_TIMEOUT);
    assert.deepEqual(tools.map((t) => t.name).sort(), ['echo', 'search']);
    const before = (await seen()).length;
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'free' } }, undefined, CALL_TIMEOUT);
    assert.equal(textOf(echo), 'free');
    await assert.rejects(
      client.callTool({ name: 'search', arguments: { q: 'unpaid' } }, undefined, CALL_TIMEOUT),
      (e) => {
        assert.ok(e instanceof McpError, String(e));
        assert.equal(e.code, -32042);
        const [challenge, ...more] = e.data.challenges;
        assert.equal(more.length, 0);
        assert.equal(challenge.method, 'lightning');
        assert.equal(challenge.intent, 'charge');
        assert.equal(challenge.request.amount, '2');
        assert.match(challenge.request.methodDetails.invoice, /^lnbcrt/);
        return true;
      },
    );
    assert.equal((await seen()).length, before + 1, 'only the free call reached the upstream');
  } finally {
    await client.close();
  }
});

for (const [label, urlVar] of [['SSE', 'PAID_MCP_URL'], ['JSON', 'PAID_MCP_JSON_URL']]) {
  test(`the SDK as agent through l402 mcp --upstream: paid calls (upstream answers in ${label})`, async (t) => {
    const [command, ...args] = JSON.parse(need('MCP_CMD_JSON'));
    const transport = new StdioClientTransport({
      command,
      args: [...args, '--upstream', need(urlVar)],
      env: buyerEnv(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const client = new Client({ name: 'l402-mcp-ts-agent', version: '0.0.0' });
    try {
      await client.connect(transport, CALL_TIMEOUT);
      const { tools } = await client.listTools(undefined, CALL_TIMEOUT);
      const names = tools.map((x) => x.name).sort();
      for (const name of ['echo', 'l402_budget', 'l402_receipts', 'search']) assert.ok(names.includes(name), names.join());
      const hashes = [];
      for (const q of ['lightning', 'bolt12']) {
        const paid = await client.callTool({ name: 'search', arguments: { q } }, undefined, CALL_TIMEOUT);
        assert.notEqual(paid.isError, true, textOf(paid));
        assert.equal(textOf(paid), `results for ${q}`);
        const receipt = paid._meta?.[RECEIPT];
        assert.equal(receipt?.status, 'success', JSON.stringify(paid._meta));
        assert.equal(paid._meta['l402/payment'].payment.amount_sat, 2);
        assert.equal(paid._meta['l402/payment'].payment.payment_hash, receipt.reference);
        hashes.push(receipt.reference);
        const last = (await seen()).at(-1);
        assert.deepEqual(
          [last.tool, last.arg, last.paymentHash],
          ['search', q, receipt.reference],
          'the upstream served the paid call',
        );
        assert.ok(!last.metaKeys.includes('org.paymentauth/credential'), 'the credential is not forwarded');
      }
      assert.notEqual(hashes[0], hashes[1], 'one payment per call');
      const echo = await client.callTool({ name: 'echo', arguments: { text: 'hi' } }, undefined, CALL_TIMEOUT);
      assert.equal(textOf(echo), 'hi');
      assert.equal(echo._meta?.[RECEIPT], undefined, 'a free call has no receipt');
      const receipts = await client.callTool({ name: 'l402_receipts', arguments: {} }, undefined, CALL_TIMEOUT);
      const rows = (receipts.structuredContent ?? JSON.parse(textOf(receipts))).receipts;
      for (const h of hashes) assert.ok(rows.some((r) => r.payment_hash === h && r.amount_sat === 2), JSON.stringify(rows));
      t.diagnostic(`paid ${hashes.length} calls of 2 sat through l402 serve (${label})`);
    } catch (e) {
      t.diagnostic(`front stderr:\n${stderr}`);
      throw e;
    } finally {
      await client.close();
    }
  });
}

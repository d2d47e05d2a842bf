// The l402 MCP server driven by the official MCP TypeScript SDK (@modelcontextprotocol/sdk):
// over stdio (the SDK spawns the server) and over streamable HTTP (a server the tier script
// started). Inputs, from scripts/tiers/mcp-ts.sh:
//   MCP_CMD_JSON   JSON array: the command that serves MCP on stdio (`["…/l402","mcp"]`)
//   MCP_HTTP_URL   the streamable HTTP endpoint (`http://127.0.0.1:PORT/mcp`)
//   MCP_HTTP_TOKEN its bearer token (from mcp-http.token in the server's data directory)
//   SELLER_URL     the `l402 serve` base URL (zero-config sample API)
//   L402_*, XDG_*  forwarded to the spawned server (data dir, tight budget, no user config)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/tiers/mcp-ts.sh)`);
  return v;
};
const SELLER = need('SELLER_URL');
const WEATHER = `${SELLER}/api/weather?city=Paris`;
const SIMILARITY = `${SELLER}/api/similarity`;
const TOOLS = ['l402_budget', 'l402_close_sessions', 'l402_discover', 'l402_fetch', 'l402_quote', 'l402_receipts', 'l402_tokens'];
const CALL_TIMEOUT = { timeout: 60_000 };

/** The text of a tool result's content blocks. */
const textOf = (result) =>
  (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

/** The structured content of a result, or its text parsed as JSON. */
const dataOf = (result) => result.structuredContent ?? JSON.parse(textOf(result));

/** The environment the spawned server gets: the SDK's safe defaults plus L402_* and XDG_*. */
function serverEnv() {
  const env = getDefaultEnvironment();
  for (const [k, v] of Object.entries(process.env)) {
    if ((k.startsWith('L402_') || k.startsWith('XDG_')) && v !== undefined) env[k] = v;
  }
  return env;
}

async function withClient(transport, name, fn) {
  const client = new Client({ name, version: '0.0.0' });
  await client.connect(transport, CALL_TIMEOUT);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

test('stdio: tools, a paid fetch, token reuse, an over-budget refusal', async (t) => {
  const [command, ...args] = JSON.parse(need('MCP_CMD_JSON'));
  const transport = new StdioClientTransport({ command, args, env: serverEnv(), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  try {
    await withClient(transport, 'l402-mcp-ts-stdio', async (client) => {
      const server = client.getServerVersion();
      t.diagnostic(`server ${server?.name} ${server?.version}, protocol negotiated over stdio`);
      assert.match(client.getInstructions() ?? '', /budget/i);

      // 1. The tools: the one that pays names the budget, every other one says it pays nothing.
      const { tools } = await client.listTools(undefined, CALL_TIMEOUT);
      const names = tools.map((x) => x.name).sort();
      assert.deepEqual(names, TOOLS);
      for (const tool of tools) {
        const promise = tool.name === 'l402_fetch' ? /budget/i : /pays nothing/i;
        assert.match(tool.description ?? '', promise, `${tool.name}: ${tool.description}`);
      }
      const fetchTool = tools.find((x) => x.name === 'l402_fetch');
      assert.match(fetchTool.description, /max_cost_sat/);
      assert.match(fetchTool.description, /hourly|daily/);
      assert.match(fetchTool.description, /l402_budget/);
      assert.ok(fetchTool.inputSchema.properties.url, 'url parameter');
      assert.ok(fetchTool.inputSchema.properties.max_cost_sat, 'max_cost_sat parameter');
      t.diagnostic(`l402_fetch: ${fetchTool.description.slice(0, 160)}…`);

      // 2. A paid fetch: one payment of 2 sat, shown with the budget left.
      const paid = await client.callTool({ name: 'l402_fetch', arguments: { url: WEATHER } }, undefined, CALL_TIMEOUT);
      assert.notEqual(paid.isError, true, textOf(paid));
      const p = dataOf(paid);
      assert.equal(p.status, 200);
      assert.equal(p.payment.paid, true);
      assert.equal(p.payment.amount_sat, 2);
      assert.match(p.summary, /Paid 2 sat/);
      assert.match(textOf(paid), /"amount_sat": 2/);
      assert.ok(p.budget_left && typeof p.budget_left.daily_sat === 'number', 'daily budget left');
      assert.match(p.body, /Paris/);
      t.diagnostic(p.summary);

      // 3. Again: the token is reused, nothing paid.
      const reused = await client.callTool({ name: 'l402_fetch', arguments: { url: WEATHER } }, undefined, CALL_TIMEOUT);
      assert.notEqual(reused.isError, true, textOf(reused));
      const r = dataOf(reused);
      assert.equal(r.status, 200);
      assert.equal(r.payment.paid, false);
      assert.equal(r.payment.reused_token, true);
      assert.equal(r.payment.total_sat, 0);
      assert.equal(r.budget_left.daily_sat, p.budget_left.daily_sat, 'nothing more spent');
      t.diagnostic(r.summary);

      // 4. Over budget: the similarity API (5 sat) does not fit in what is left of the day.
      const over = await client.callTool(
        {
          name: 'l402_fetch',
          arguments: { url: SIMILARITY, method: 'POST', body: JSON.stringify({ a: [1, 0], b: [1, 1] }), max_cost_sat: 1_000_000 },
        },
        undefined,
        CALL_TIMEOUT,
      );
      assert.equal(over.isError, true, textOf(over));
      const overText = textOf(over);
      assert.match(overText, /daily budget/, 'names the limit');
      assert.match(overText, /Nothing was paid/);
      assert.match(overText, /Hint:/);
      t.diagnostic(overText.split('\n').slice(0, 2).join(' | '));

      // 5. Exactly one payment was made.
      const receipts = dataOf(await client.callTool({ name: 'l402_receipts', arguments: {} }, undefined, CALL_TIMEOUT));
      assert.equal(receipts.receipts.length, 1);
      const budget = dataOf(await client.callTool({ name: 'l402_budget', arguments: {} }, undefined, CALL_TIMEOUT));
      assert.equal(budget.daily.remaining_sat, p.budget_left.daily_sat);
      t.diagnostic(budget.summary);
      const tokens = await client.callTool({ name: 'l402_tokens', arguments: {} }, undefined, CALL_TIMEOUT);
      assert.doesNotMatch(textOf(tokens), /macaroon|preimage/i, 'no secrets');

      // 6. Discovery through the SDK: the seller's prices, from its manifest, for nothing.
      const found = dataOf(await client.callTool({ name: 'l402_discover', arguments: { url: SELLER } }, undefined, CALL_TIMEOUT));
      assert.equal(found.source, 'manifest');
      const similarity = found.listings.find((l) => l.method === 'POST' && l.path === '/api/similarity');
      assert.equal(similarity?.price_sat, 5);
      const after = dataOf(await client.callTool({ name: 'l402_receipts', arguments: {} }, undefined, CALL_TIMEOUT));
      assert.equal(after.receipts.length, 1, 'discovery paid nothing');
    });
  } catch (e) {
    if (stderr) t.diagnostic(`server stderr:\n${stderr.slice(-4000)}`);
    throw e;
  }
});

test('streamable HTTP: without the bearer token, 401; a foreign Origin, 403', async () => {
  const url = need('MCP_HTTP_URL');
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const bare = await fetch(url, { method: 'POST', headers, body });
  assert.equal(bare.status, 401);
  const wrong = await fetch(url, { method: 'POST', headers: { ...headers, authorization: 'Bearer not-the-token-0000' }, body });
  assert.equal(wrong.status, 401);
  const foreign = await fetch(url, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${need('MCP_HTTP_TOKEN')}`, origin: 'https://evil.example' },
    body,
  });
  assert.equal(foreign.status, 403);
});

test('streamable HTTP: tools and one call', async (t) => {
  const url = new URL(need('MCP_HTTP_URL'));
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { Authorization: `Bearer ${need('MCP_HTTP_TOKEN')}` } },
  });
  await withClient(transport, 'l402-mcp-ts-http', async (client) => {
    const { tools } = await client.listTools(undefined, CALL_TIMEOUT);
    assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
    // The stdio test bought the weather token in the same store, so it is normally reused; run
    // alone, this call pays it.
    const res = await client.callTool({ name: 'l402_fetch', arguments: { url: WEATHER } }, undefined, CALL_TIMEOUT);
    assert.notEqual(res.isError, true, textOf(res));
    const d = dataOf(res);
    assert.equal(d.status, 200);
    assert.ok(d.payment.paid || d.payment.reused_token, 'paid, or reused a held token');
    if (d.payment.paid) assert.equal(d.payment.amount_sat, 2);
    t.diagnostic(`over HTTP (session ${transport.sessionId ?? 'none'}): ${d.summary}`);
  });
});

// mppx as a paid MCP server (its MCP SDK transport, Transport.mcpSdk(), over the official SDK's
// low-level Server and stateless streamable HTTP), paid by `l402 mcp --upstream`: mppx issues
// the -32042 challenge (its own HMAC id, request in JSON form), our front pays it through the
// dev wallet and retries with the credential in `_meta`; mppx verifies it with the small
// Lightning method of ../lightning.mjs and returns its receipt in the result's `_meta`.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Mppx, Transport } from 'mppx/server';
import { chargeRequest, chargeServer, devWallet } from '../lightning.mjs';

const DATA_DIR = process.env.L402_DATA_DIR;
const BIN = process.env.L402_BIN;
if (!DATA_DIR || !BIN) throw new Error('L402_DATA_DIR / L402_BIN not set (run scripts/tiers/mppx.sh)');
const wallet = devWallet(DATA_DIR);
const CREDENTIAL = 'org.paymentauth/credential';
const textOf = (result) =>
  (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

/** An MCP server selling `premium {q}` for `amount` sat through mppx; `seen` records what mppx verified. */
async function mppxMcpServer(amount, seen) {
  const payment = Mppx.create({
    methods: [chargeServer(seen)],
    secretKey: 'mppx-mcp-tier-secret-0123456789abcdef012345',
    realm: 'mppx-mcp.test',
    transport: Transport.mcpSdk(),
  });
  const schema = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };
  const makeServer = () => {
    const server = new Server({ name: 'mppx-paid-mcp', version: '0.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: 'premium', description: 'Paid per call (mppx).', inputSchema: schema }],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      // A fresh invoice per challenge; a credential is checked against the request it echoes.
      const echoed = extra._meta?.[CREDENTIAL]?.challenge?.request;
      const route = echoed ?? (await chargeRequest(wallet, amount, 'mppx mcp tier'));
      const result = await payment['lightning/charge'](route)(extra);
      if (result.status === 402) throw result.challenge;
      return result.withReceipt({ content: [{ type: 'text', text: `premium for ${request.params.arguments.q}` }] });
    });
    return server;
  };
  const http = createServer(async (req, res) => {
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { http, url: `http://127.0.0.1:${http.address().port}/mcp` };
}

test("l402 mcp --upstream pays an mppx MCP server's tool calls", async (t) => {
  const seen = [];
  const { http, url } = await mppxMcpServer(3, seen);
  const env = { ...getDefaultEnvironment(), L402_DATA_DIR: DATA_DIR, L402_MCP_ALLOW_PRIVATE_NETWORKS: 'true', NO_COLOR: '1' };
  const transport = new StdioClientTransport({ command: BIN, args: ['mcp', '--upstream', url], env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const client = new Client({ name: 'agent', version: '0.0.0' });
  try {
    await client.connect(transport);
    for (const q of ['lightning', 'bolt12']) {
      const result = await client.callTool({ name: 'premium', arguments: { q } });
      assert.notEqual(result.isError, true, textOf(result));
      assert.equal(textOf(result), `premium for ${q}`);
      const receipt = result._meta?.['org.paymentauth/receipt'];
      assert.equal(receipt?.status, 'success', JSON.stringify(result._meta));
      assert.equal(receipt.reference, seen.at(-1).hash, "mppx's receipt names what it verified");
      assert.equal(result._meta['l402/payment'].payment.amount_sat, 3);
      assert.equal(result._meta['l402/payment'].payment.payment_hash, seen.at(-1).hash);
    }
    assert.equal(seen.length, 2, 'mppx verified two credentials');
    assert.notEqual(seen[0].hash, seen[1].hash);
  } catch (e) {
    t.diagnostic(`front stderr:\n${stderr}`);
    throw e;
  } finally {
    await client.close();
    http.close();
  }
});

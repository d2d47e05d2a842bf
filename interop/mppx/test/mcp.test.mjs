// mppx's MCP client (McpClient.wrap over the official SDK's Client) paying the tool calls
// `l402 serve` sells (`mcp = true`): mppx reads our -32042 challenge in its JSON form, builds the
// credential with the Lightning method of ../lightning.mjs, puts it in `_meta` its own way, and
// reads our receipt from the result. Our server recomputes the challenge id from what mppx
// echoes, so this also checks the two implementations bind JSON-form challenges alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpClient } from 'mppx/mcp-sdk/client';
import { chargeClient, devWallet, sha256hex } from '../lightning.mjs';

const MCP_URL = process.env.L402_MCP_URL;
const SEEN_URL = process.env.L402_MCP_SEEN_URL;
const DATA_DIR = process.env.L402_DATA_DIR;
for (const [k, v] of Object.entries({ MCP_URL, SEEN_URL, DATA_DIR })) {
  if (!v) throw new Error(`${k} is not set (run scripts/tiers/mppx.sh)`);
}
const textOf = (result) =>
  (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

test("mppx's MCP client pays the tool calls l402 serve sells", async () => {
  const client = new Client({ name: 'mppx-mcp-client', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(MCP_URL)));
  try {
    const paid = [];
    McpClient.wrap(client, { methods: [chargeClient(devWallet(DATA_DIR), paid)] });
    for (const q of ['lightning', 'bolt12']) {
      const result = await client.callTool({ name: 'search', arguments: { q } });
      assert.notEqual(result.isError, true, textOf(result));
      assert.equal(textOf(result), `results for ${q}`);
      const last = paid.at(-1);
      assert.equal(paid.length, q === 'lightning' ? 1 : 2, 'one payment per call');
      assert.equal(result.receipt?.status, 'success', JSON.stringify(result._meta));
      assert.equal(result.receipt.method, 'lightning');
      assert.equal(result.receipt.reference, last.payment_hash);
      assert.equal(result.receipt.reference, sha256hex(last.preimage));
      assert.equal(result.receipt.challengeId, last.challengeId);
      const seen = await (await fetch(SEEN_URL)).json();
      const call = seen.at(-1);
      assert.deepEqual([call.tool, call.arg, call.paymentHash], ['search', q, last.payment_hash]);
      assert.ok(!call.metaKeys.includes('org.paymentauth/credential'), 'the credential is not forwarded');
    }
    // A free tool pays nothing.
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    assert.equal(textOf(echo), 'hi');
    assert.equal(paid.length, 2);
  } finally {
    await client.close();
  }
});

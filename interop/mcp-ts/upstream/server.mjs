// A plain MCP server built with the official TypeScript SDK (low-level `Server`, stateless
// streamable HTTP), selling nothing itself: `l402 serve` (`mcp = true`) sells its `search` calls.
// Paths under /json answer in JSON (enableJsonResponse), others in server-sent events.
// GET /seen lists the calls it served: tool, argument, the `_meta` keys it received and its
// X-L402-Payment-Hash header (so a test can check the credential never reached it).
//
// Usage: node upstream/server.mjs PORT
import http from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

const port = Number(process.argv[2]);
const seen = [];

const schema = (arg) => ({ type: 'object', properties: { [arg]: { type: 'string' } }, required: [arg] });

function makeServer() {
  const server = new Server({ name: 'ts-upstream', version: '0.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: 'search', description: 'Searches (sold per call by l402 serve).', inputSchema: schema('q') },
      { name: 'echo', description: 'Echoes the text (free).', inputSchema: schema('text') },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {}, _meta = {} } = request.params;
    const headers = extra.requestInfo?.headers ?? {};
    seen.push({
      tool: name,
      arg: args.q ?? args.text ?? null,
      metaKeys: Object.keys(_meta).sort(),
      paymentHash: headers['x-l402-payment-hash'] ?? null,
    });
    if (name === 'search') return { content: [{ type: 'text', text: `results for ${args.q}` }] };
    if (name === 'echo') return { content: [{ type: 'text', text: String(args.text) }] };
    throw new McpError(ErrorCode.InvalidParams, `no tool named ${name}`);
  });
  return server;
}

http
  .createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/seen') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen));
      return;
    }
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: req.url.startsWith('/json'),
    });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (e) {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end(String(e));
      }
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`ts upstream MCP server on http://127.0.0.1:${port}`));

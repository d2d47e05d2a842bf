// A small Lightning `charge` method for mppx (which ships none): the request object and the
// credential payload of the Lightning charge draft, a client that pays the challenge's invoice
// through our dev wallet's loopback HTTP API, and a server that mints invoices on that wallet
// and checks sha256(preimage) == paymentHash. Only wallet plumbing lives here; challenges,
// credentials, receipts and the challenge-id HMAC are mppx's own code.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Credential, Method, z } from 'mppx';

export const charge = Method.from({
  name: 'lightning',
  intent: 'charge',
  schema: {
    credential: { payload: z.object({ preimage: z.string() }) },
    request: z.object({
      amount: z.string(),
      currency: z.string(),
      description: z.optional(z.string()),
      methodDetails: z.object({
        invoice: z.string(),
        paymentHash: z.optional(z.string()),
        network: z.optional(z.string()),
      }),
    }),
  },
});

/** The dev wallet of the data directory `dataDir` (its loopback URL and access token). */
export function devWallet(dataDir) {
  const wallet = JSON.parse(readFileSync(join(dataDir, 'dev-wallet.json'), 'utf8'));
  const call = async (path, body) => {
    const res = await fetch(`${wallet.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wallet.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`dev wallet ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    /** Pays a BOLT11 invoice: { preimage, payment_hash, amount_msat, fee_msat }. */
    pay: (bolt11) => call('/v1/payments', { bolt11, max_fee_msat: 0, timeout_ms: 10000 }),
    /** Creates an invoice: { bolt11, payment_hash }. */
    invoice: (amountSat, memo) =>
      call('/v1/invoices', { amount_msat: amountSat * 1000, memo, expiry_secs: 600 }),
  };
}

/** The client side: pays the invoice, presents the preimage. `paid` records each payment. */
export function chargeClient(wallet, paid = []) {
  return Method.toClient(charge, {
    async createCredential({ challenge }) {
      const payment = await wallet.pay(challenge.request.methodDetails.invoice);
      paid.push({ challengeId: challenge.id, ...payment });
      return Credential.serialize({ challenge, payload: { preimage: payment.preimage } });
    },
  });
}

/** sha256 of a hex preimage, hex. */
export const sha256hex = (hex) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

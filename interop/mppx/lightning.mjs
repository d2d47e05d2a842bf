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

/**
 * The server side: checks sha256(preimage) == the echoed paymentHash and returns the receipt
 * (with the challengeId the Lightning charge draft requires). `seen` records each credential
 * it accepted: { hash, id }.
 */
export function chargeServer(seen = []) {
  return Method.toServer(charge, {
    async verify({ credential }) {
      const hash = credential.challenge.request.methodDetails.paymentHash;
      if (sha256hex(credential.payload.preimage) !== hash) throw new Error('invalid preimage');
      seen.push({ hash, id: credential.challenge.id });
      return {
        method: 'lightning',
        status: 'success',
        timestamp: new Date().toISOString(),
        reference: hash,
        challengeId: credential.challenge.id,
      };
    },
  });
}

/** The request object of a fresh charge of `amount` sat: an invoice minted on `wallet`. */
export async function chargeRequest(wallet, amount, memo) {
  const invoice = await wallet.invoice(amount, memo);
  return {
    amount: String(amount),
    currency: 'sat',
    methodDetails: { invoice: invoice.bolt11, paymentHash: invoice.payment_hash, network: 'regtest' },
  };
}

// The admin dashboard of `l402 serve` in headless Chromium (Debian's package), driven by
// playwright-core. scripts/tiers/dashboard.sh starts `l402 serve --admin-listen` and sets:
//   SELLER_URL      the proxy, e.g. http://127.0.0.1:PORT
//   ADMIN_URL       the admin listener
//   DATA_DIR        the seller's data directory (admin macaroons, dev wallet connection file)
//   CHROMIUM        the browser executable
//   SCREENSHOT_DIR  optional: where to write dashboard.png (docs/ when refreshing the README's)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/tiers/dashboard.sh`);
  return value;
}

const SELLER = need("SELLER_URL");
const ADMIN = need("ADMIN_URL");
const DATA = need("DATA_DIR");
const FULL = readFileSync(join(DATA, "admin.macaroon"), "utf8").trim();
const READ = readFileSync(join(DATA, "admin-readonly.macaroon"), "utf8").trim();
const wallet = JSON.parse(readFileSync(join(DATA, "dev-wallet.json"), "utf8"));

async function adminApi(path, macaroon = FULL) {
  const r = await fetch(`${ADMIN}${path}`, { headers: { Authorization: `Bearer ${macaroon}` } });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r.json();
}

// Buys one token for `path` (method, body) through the dev wallet and uses it once.
async function buy(path, init = {}) {
  const challenge = await fetch(`${SELLER}${path}`, init);
  assert.equal(challenge.status, 402);
  const { invoice } = await challenge.json();
  const header = challenge.headers.get("www-authenticate");
  const macaroon = /L402 macaroon="([^"]+)"/.exec(header)[1];
  const paid = await fetch(`${wallet.url}/v1/payments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${wallet.access_token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ bolt11: invoice, max_fee_msat: 0, timeout_ms: 10000 }),
  });
  const { preimage } = await paid.json();
  assert.ok(preimage, "the dev wallet paid");
  const used = await fetch(`${SELLER}${path}`, {
    ...init,
    headers: { ...(init.headers || {}), Authorization: `L402 ${macaroon}:${preimage}` },
  });
  assert.equal(used.status, 200);
}

let browser;
before(async () => {
  await buy("/api/weather?city=Paris");
  await buy("/api/weather?city=Rome");
  await buy("/api/similarity", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ a: [1, 2], b: [2, 4] }),
  });
  // Settlements reach the store shortly after payment.
  for (let i = 0; i < 100; i++) {
    const page = await adminApi("/api/v1/invoices?state=paid");
    if (page.invoices.length >= 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({ executablePath: need("CHROMIUM"), args: ["--no-sandbox"] });
});
after(async () => browser?.close());

// A page that fails the test on any console error or uncaught exception.
async function watchedPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return { page, problems };
}

test("the dashboard shows what the API reports, and revoke revokes", async () => {
  const stats = await adminApi("/api/v1/stats?days=30");
  const expected = Object.values(stats.revenue_by_service).reduce((a, t) => a + t.revenue_msat, 0);
  assert.ok(expected > 0, "the purchases settled");
  const { page, problems } = await watchedPage();
  await page.goto(`${ADMIN}/dashboard#macaroon=${FULL}`);
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForFunction((msat) => document.getElementById("kpi-30d").dataset.msat === String(msat), expected);
  const paidCount = Object.values(stats.revenue_by_service).reduce((a, t) => a + t.settled, 0);
  assert.equal(await page.textContent("#kpi-paid"), String(paidCount));
  // The macaroon left the address bar; the charts are drawn.
  assert.ok(!page.url().includes("macaroon"), page.url());
  assert.ok((await page.locator("#revenue-chart svg rect").count()) >= 1);
  assert.equal(await page.locator("#services-chart .row").count(), 2);
  const rows = page.locator("#payments tbody tr");
  assert.equal(await rows.count(), 3);
  if (process.env.SCREENSHOT_DIR) {
    mkdirSync(process.env.SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "dashboard.png"), fullPage: true });
  }

  // Revoke the newest payment's token from the page.
  const button = page.locator("#payments tbody button[data-token]").first();
  const token = await button.getAttribute("data-token");
  await button.click();
  await page.waitForSelector(`#revocations button[data-restore="${token}"]`);
  const revoked = await adminApi("/api/v1/revocations");
  assert.deepEqual(revoked.revocations.map((r) => r.token_id), [token]);
  // And restore it.
  await page.click(`#revocations button[data-restore="${token}"]`);
  await page.waitForFunction(() => !document.querySelector("#revocations button[data-restore]"));
  assert.equal((await adminApi("/api/v1/revocations")).revocations.length, 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a read-only macaroon sees the numbers but cannot revoke; a bad one is refused", async () => {
  const { page, problems } = await watchedPage();
  await page.goto(`${ADMIN}/dashboard`);
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#macaroon", "00".repeat(40));
  await page.click("#login-form button");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.includes("macaroon"));
  await page.fill("#macaroon", READ);
  await page.click("#login-form button");
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForSelector("#payments tbody button[data-token]");
  const buttons = page.locator("#payments tbody button[data-token]");
  for (let i = 0; i < (await buttons.count()); i++) {
    assert.equal(await buttons.nth(i).isDisabled(), true);
  }
  assert.match(await page.textContent("#health"), /read-only/);
  // Chromium logs each refused (401) request as a console error; nothing else may appear.
  const unexpected = problems.filter((p) => !p.includes("401"));
  assert.deepEqual(unexpected, []);
  await page.close();
});

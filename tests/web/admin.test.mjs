// The admin console in a real browser against a real chatd: keys shown
// once, a dataset upload, a short fine-tuning job whose chart fills in, and
// the activation of its model.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Chatd, artifact, eventually, launchBrowser, watchedPage } from './service.mjs';

let chatd;
let browser;

before(async () => {
  chatd = await new Chatd().start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await chatd?.stop();
});

/** One conversation, repeated: enough tokens for a 128-token context split
 * (as in tests/integration/job_test.cpp). */
function secretWordChats() {
  const line = JSON.stringify({ messages: [
    { role: 'user', content: 'What is the secret word?' },
    { role: 'assistant', content: 'avocado' }] });
  return `${line}\n`.repeat(60);
}

async function signIn(page) {
  await page.goto(`${chatd.url}/admin.html`);
  await page.fill('#key-input', chatd.adminKey);
  await page.click('#sign-in button[type=submit]');
  await page.locator('#console').waitFor();
}

test('a chat-only key is refused by the console', async () => {
  const user = await chatd.api('POST', '/admin/users', { name: 'not-admin' });
  const key = (await chatd.api('POST', '/admin/keys',
    { user_id: user.id, scopes: ['chat'] })).key;
  const page = await watchedPage(browser);
  await page.goto(`${chatd.url}/admin.html`);
  await page.fill('#key-input', key);
  await page.click('#sign-in button[type=submit]');
  await page.locator('#error').waitFor();
  assert.match(await page.textContent('#error'), /may not do that/);
  await page.context().close();
});

test('an admin creates a user and a key shown once, then revokes it', async () => {
  const page = await watchedPage(browser);
  await signIn(page);
  await page.fill('#user-name', 'alice');
  await page.click('#user-form button');
  await page.locator('#user-rows td:text-is("alice")').waitFor();
  await page.selectOption('#key-user', { label: 'alice' });
  await page.fill('#key-name', 'laptop');
  await page.click('#key-form button');
  await page.locator('#new-key').waitFor();
  const key = await page.textContent('#new-key-value');
  assert.match(key, /^sk-/);
  const models = await chatd.api('GET', '/v1/models', undefined, key);
  assert.equal(models.object, 'list');
  await page.click('#hide-key');
  assert.equal(await page.textContent('#new-key-value'), '');
  const row = page.locator('#key-rows tr', { hasText: 'laptop' });
  await row.locator('button:has-text("Revoke")').click();
  await row.locator('td:text-is("revoked")').waitFor();
  await page.context().close();
});

test('an admin uploads a dataset, trains, watches the chart and activates the model', async () => {
  const page = await watchedPage(browser);
  await signIn(page);

  await page.fill('#dataset-name', 'secret-word');
  await page.selectOption('#dataset-kind', 'chat');
  await page.setInputFiles('#dataset-file', {
    name: 'chats.jsonl', mimeType: 'application/x-ndjson',
    buffer: Buffer.from(secretWordChats()),
  });
  await page.click('#dataset-form button');
  await page.locator('#dataset-rows td:text-is("secret-word")').waitFor();

  await page.selectOption('#job-datasets', { index: 0 });
  await page.fill('#job-max-steps', '30');
  await page.fill('#job-batch-size', '8');
  await page.fill('#job-lr', '0.003');
  await page.fill('#job-warmup', '2');
  await page.fill('#job-eval-interval', '10');
  await page.selectOption('#job-device', 'cpu');
  await page.click('#job-form button[type=submit]');
  await page.locator('#job-detail').waitFor();
  const jobId = await page.textContent('#job-detail-id');
  assert.match(jobId, /^job_/);

  // The chart fills in from the job's live events.
  const chart = page.locator('#loss-chart');
  await eventually(async () => Number(await chart.getAttribute('data-train-points')) > 0,
    120000, 'a training loss point');
  await page.locator('#job-detail[data-status=succeeded]').waitFor({ timeout: 180000 });
  await eventually(async () => Number(await chart.getAttribute('data-val-points')) > 0,
    10000, 'a validation loss point');
  assert.ok(Number(await chart.getAttribute('data-train-points')) >= 10);
  assert.match(await page.textContent('#job-detail-progress'), /step 30\/30.*tokens\/s/);

  // The job's model appears and is activated.
  const row = page.locator('#model-rows tr', { hasText: jobId });
  await row.waitFor();
  await page.screenshot({ path: artifact('admin-job.png'), fullPage: true });
  await row.locator('button:has-text("Activate")').click();
  await row.locator('td.status:text-is("active")').waitFor({ timeout: 60000 });
  const modelId = await row.getAttribute('data-model-id');
  const active = (await chatd.api('GET', '/admin/models')).data
    .find((m) => m.status === 'active');
  assert.equal(active.id, modelId);
  await page.locator('#worker-rows td', { hasText: modelId }).first()
    .waitFor({ timeout: 10000 });
  assert.ok(await page.isEnabled('#rollback'));

  await page.screenshot({ path: artifact('admin.png'), fullPage: true });
  assert.deepEqual(page.problems.filter((p) => /Content.Security|Refused/i.test(p)), []);
  await page.context().close();
});

// The admin console: users and keys, datasets, jobs with live progress,
// models, workers. Every call needs a key with the admin scope.

import { call, followEvents, forgetKey, saveKey, savedKey, upload } from './api.js';
import { el, fill, showError, when } from './dom.js';
import { LossChart } from './loss_chart.js';

const $ = (id) => document.getElementById(id);
const finalStatuses = new Set(['succeeded', 'failed', 'cancelled']);
const chart = new LossChart($('loss-chart'));
// The job whose events the detail panel follows, and how to stop following.
let followed = { id: '', abort: null };
let workerTimer = null;
let models = [];

// Runs an action from a button or form; its failure goes to the banner.
async function attempt(action) {
  showError('');
  try {
    await action();
  } catch (e) {
    showError(e.message);
    if (e.status === 401 || e.status === 403) showSignIn(e.message);
  }
}

function button(text, onclick, className = 'small') {
  return el('button', { type: 'button', class: className, text,
    onclick: () => attempt(onclick) });
}

// -- signing in -------------------------------------------------------------

function showSignIn(message) {
  $('console').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  clearInterval(workerTimer);
  showError(message);
}

async function start() {
  if (!savedKey()) return showSignIn('');
  try {
    await loadUsers();
    await Promise.all([loadKeys(), loadDatasets(), loadJobs(), loadModels(),
      loadWorkers()]);
  } catch (e) {
    return showSignIn(e.message);
  }
  $('sign-in').hidden = true;
  $('console').hidden = false;
  $('sign-out').hidden = false;
  showError('');
  clearInterval(workerTimer);
  workerTimer = setInterval(() => {
    if (!document.hidden) loadWorkers().catch((e) => showError(e.message));
  }, 2000);
}

// -- users and keys ---------------------------------------------------------

let users = [];

async function loadUsers() {
  users = (await call('GET', '/admin/users')).data;
  fill($('user-rows'), users.map((u) => el('tr', {},
    el('td', { text: u.name }), el('td', { class: 'id', text: u.id }),
    el('td', { text: when(u.created_at) }),
    el('td', {}, button('Delete', async () => {
      await call('DELETE', `/admin/users/${u.id}`);
      await Promise.all([loadUsers(), loadKeys()]);
    }, 'small danger')))));
  fill($('key-user'), users.map((u) => el('option', { value: u.id, text: u.name })));
}

async function loadKeys() {
  const keys = (await call('GET', '/admin/keys')).data;
  const names = new Map(users.map((u) => [u.id, u.name]));
  fill($('key-rows'), keys.map((k) => el('tr', {},
    el('td', { class: 'id', text: k.prefix }),
    el('td', { text: names.get(k.user_id) || k.user_id }),
    el('td', { text: k.scopes.join(', ') }), el('td', { text: k.name || '' }),
    el('td', { text: when(k.created_at) }),
    el('td', { text: k.revoked_at ? 'revoked' : 'active' }),
    el('td', {}, k.revoked_at ? null : button('Revoke', async () => {
      await call('DELETE', `/admin/keys/${k.id}`);
      await loadKeys();
    }, 'small danger')))));
}

$('user-form').addEventListener('submit', (event) => {
  event.preventDefault();
  attempt(async () => {
    await call('POST', '/admin/users', { name: $('user-name').value.trim() });
    $('user-name').value = '';
    await loadUsers();
  });
});

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  attempt(async () => {
    const body = { user_id: $('key-user').value,
      scopes: $('key-admin').checked ? ['chat', 'admin'] : ['chat'] };
    if ($('key-name').value.trim()) body.name = $('key-name').value.trim();
    if ($('key-rpm').value) body.rate_limit_rpm = Number($('key-rpm').value);
    const created = await call('POST', '/admin/keys', body);
    $('new-key-value').textContent = created.key;
    $('new-key').hidden = false;
    await loadKeys();
  });
});

$('copy-key').addEventListener('click', () => attempt(async () => {
  await navigator.clipboard.writeText($('new-key-value').textContent);
  $('copy-key').textContent = 'Copied';
}));

// The plaintext key leaves the page once the admin is done with it.
$('hide-key').addEventListener('click', () => {
  $('new-key-value').textContent = '';
  $('new-key').hidden = true;
  $('copy-key').textContent = 'Copy';
});

// -- datasets ---------------------------------------------------------------

async function loadDatasets() {
  const datasets = (await call('GET', '/admin/datasets')).data;
  fill($('dataset-rows'), datasets.map((d) => el('tr', {},
    el('td', { text: d.name }), el('td', { text: d.kind }),
    el('td', { text: d.bytes }), el('td', { class: 'id', text: d.id }),
    el('td', { text: when(d.created_at) }))));
  fill($('job-datasets'), datasets.map((d) =>
    el('option', { value: d.id, text: `${d.name} (${d.kind}, ${d.bytes} B)` })));
}

$('dataset-form').addEventListener('submit', (event) => {
  event.preventDefault();
  attempt(async () => {
    const kind = $('dataset-kind').value;
    const name = encodeURIComponent($('dataset-name').value.trim());
    const type = kind === 'chat' ? 'application/x-ndjson' : 'text/plain';
    await upload(`/admin/datasets?name=${name}&kind=${kind}`, type,
      $('dataset-file').files[0]);
    $('dataset-form').reset();
    await loadDatasets();
  });
});

// -- jobs -------------------------------------------------------------------

function progressText(p) {
  if (!p || p.step === undefined) return 'waiting for the first step';
  const parts = [`step ${p.step}/${p.max_steps}`];
  if (p.train_loss != null) parts.push(`loss ${Number(p.train_loss).toFixed(3)}`);
  if (p.val_loss != null) parts.push(`val loss ${Number(p.val_loss).toFixed(3)}`);
  if (p.tokens_per_sec != null) parts.push(`${Math.round(p.tokens_per_sec)} tokens/s`);
  if (p.eta_s != null) parts.push(`about ${Math.round(p.eta_s)} s left`);
  return parts.join(' · ');
}

async function loadJobs() {
  const jobs = (await call('GET', '/admin/jobs')).data;
  fill($('job-rows'), jobs.map((j) => {
    const p = j.progress || {};
    return el('tr', { 'data-job-id': j.id },
      el('td', { class: 'id', text: j.id }), el('td', { text: j.type }),
      el('td', { class: `status ${j.status}`, text: j.status }),
      el('td', { text: p.step !== undefined ? `${p.step}/${p.max_steps}` : '' }),
      el('td', { text: p.train_loss != null ? Number(p.train_loss).toFixed(3) : '' }),
      el('td', { text: p.tokens_per_sec != null ? Math.round(p.tokens_per_sec) : '' }),
      el('td', {}, button('Watch', () => watchJob(j.id))));
  }));
}

// Shows the job in the detail panel and follows its events (all of them
// from the start, then live) until it ends.
async function watchJob(id) {
  if (followed.abort) followed.abort.abort();
  const abort = new AbortController();
  followed = { id, abort };
  const job = await call('GET', `/admin/jobs/${id}`);
  chart.clear();
  chart.setMaxStep(job.progress && job.progress.max_steps);
  $('job-detail').hidden = false;
  $('job-detail-id').textContent = id;
  showJob(job);
  followEvents(`/admin/jobs/${id}/events`, (event) => {
    if (event.type === 'step') chart.addTrain(event.step, event.train_loss);
    if (event.type === 'eval') chart.addVal(event.step, event.val_loss);
    if (event.type === 'step' || event.type === 'eval' || event.type === 'status')
      refreshJob(id);
  }, abort.signal).then(() => refreshJob(id))
    .catch((e) => showError(e.message));
}

function showJob(job) {
  $('job-detail-status').textContent = job.status;
  $('job-detail').dataset.status = job.status;
  chart.setMaxStep(job.progress && job.progress.max_steps);
  $('job-detail-progress').textContent = job.error
    ? `${progressText(job.progress)} · error: ${job.error}` : progressText(job.progress);
  $('job-cancel').hidden = finalStatuses.has(job.status);
}

// Progress arrives with every step: one refresh in flight, and one more
// after it when events came meanwhile, so the last state is always shown.
const refresh = { running: false, again: false };
async function refreshJob(id) {
  if (refresh.running) {
    refresh.again = true;
    return;
  }
  refresh.running = true;
  try {
    do {
      refresh.again = false;
      const job = await call('GET', `/admin/jobs/${id}`);
      if (followed.id === id) showJob(job);
      await loadJobs();
      if (finalStatuses.has(job.status)) await loadModels();
    } while (refresh.again);
  } catch (e) {
    showError(e.message);
  } finally {
    refresh.running = false;
  }
}

$('job-form').addEventListener('submit', (event) => {
  event.preventDefault();
  attempt(async () => {
    const number = (id) => Number($(id).value);
    const body = {
      type: $('job-type').value,
      dataset_ids: [...$('job-datasets').selectedOptions].map((o) => o.value),
      hyper: {
        max_steps: number('job-max-steps'), batch_size: number('job-batch-size'),
        lr: number('job-lr'), warmup_steps: number('job-warmup'),
        eval_interval: number('job-eval-interval'), device: $('job-device').value,
      },
      auto_activate: $('job-auto-activate').checked,
    };
    const job = await call('POST', '/admin/jobs', body);
    await loadJobs();
    await watchJob(job.id);
  });
});

$('job-cancel').addEventListener('click', () => attempt(async () => {
  await call('POST', `/admin/jobs/${followed.id}/cancel`, {});
  await refreshJob(followed.id);
}));

// -- models and workers -----------------------------------------------------

async function activate(id) {
  await call('POST', `/admin/models/${id}/activate`, {});
  await Promise.all([loadModels(), loadWorkers()]);
}

async function loadModels() {
  models = (await call('GET', '/admin/models')).data;
  fill($('model-rows'), models.map((m) => el('tr', { 'data-model-id': m.id },
    el('td', { text: m.name || '' }), el('td', { class: 'id', text: m.id }),
    el('td', { class: `status ${m.status}`, text: m.status }),
    el('td', { text: m.n_params != null ? Number(m.n_params).toLocaleString() : '' }),
    el('td', { class: 'id', text: m.job_id || '' }),
    el('td', { text: when(m.created_at) }),
    el('td', {}, m.status === 'active' ? null : button('Activate', () => activate(m.id))))));
  const active = models.find((m) => m.status === 'active');
  $('rollback').disabled = !(active && active.parent_id
    && models.some((m) => m.id === active.parent_id));
}

$('rollback').addEventListener('click', () => attempt(async () => {
  const active = models.find((m) => m.status === 'active');
  await activate(active.parent_id);
}));

async function loadWorkers() {
  const workers = (await call('GET', '/admin/workers')).data;
  fill($('worker-rows'), workers.map((w) => el('tr', {},
    el('td', { class: 'id', text: w.id }), el('td', { text: w.host }),
    el('td', { text: w.device }), el('td', { class: 'id', text: w.model_id }),
    el('td', { class: `status ${w.status}`, text: w.status }),
    el('td', { text: w.running }), el('td', { text: w.queued }),
    el('td', { text: Math.round(w.tokens_per_sec || 0) }))));
}

// -- wiring -----------------------------------------------------------------

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  saveKey($('key-input').value);
  $('key-input').value = '';
  start();
});

$('sign-out').addEventListener('click', () => {
  forgetKey();
  showSignIn('');
});

start();

// The chat page: sign in with a key, pick or create a session, stream
// replies over the WebSocket, stop them, change sampling parameters.

import { call, explain, forgetKey, saveKey, savedKey } from './api.js';
import { ChatSocket } from './chat_socket.js';
import { el, fill, showError } from './dom.js';
import { renderText } from './render.js';

const $ = (id) => document.getElementById(id);
const currentName = 'chat.session_id';
const paramsName = 'chat.params';
const paramInputs = {
  temperature: 'p-temperature', top_p: 'p-top-p', top_k: 'p-top-k',
  max_tokens: 'p-max-tokens', seed: 'p-seed',
};

const state = {
  sessions: [],
  current: localStorage.getItem(currentName) || '',
  // The reply being streamed: { id, text, body, bubble }.
  running: null,
  nextChat: 1,
};

const socket = new ChatSocket(onFrame, onTrouble);

// -- signing in -------------------------------------------------------------

function showSignIn(message) {
  socket.close();
  $('chat').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  showError(message);
  $('key-input').focus();
}

async function start() {
  if (!savedKey()) return showSignIn('');
  try {
    await loadSessions();
  } catch (e) {
    return showSignIn(e.message);
  }
  $('sign-in').hidden = true;
  $('chat').hidden = false;
  $('sign-out').hidden = false;
  showError('');
  if (state.current && state.sessions.some((s) => s.id === state.current))
    await openSession(state.current);
  else
    selectSession('');
}

// -- sessions ---------------------------------------------------------------

async function loadSessions() {
  const list = await call('GET', '/api/sessions?limit=100');
  state.sessions = list.data;
  renderSessions();
}

function renderSessions() {
  fill($('session-list'), state.sessions.map((s) => {
    const item = el('li', { class: s.id === state.current ? 'current' : '',
      'data-session-id': s.id });
    const title = el('button', { type: 'button', class: 'session-title',
      text: s.title || 'Untitled', onclick: () => openSession(s.id) });
    const rename = el('button', { type: 'button', class: 'small', text: 'Rename',
      onclick: () => startRename(item, s) });
    const remove = el('button', { type: 'button', class: 'small danger', text: 'Delete',
      onclick: () => confirmDelete(remove, s) });
    fill(item, title, el('span', { class: 'session-actions' }, rename, remove));
    return item;
  }));
}

function startRename(item, session) {
  const input = el('input', { type: 'text', value: session.title || '',
    'aria-label': 'New title' });
  const form = el('form', { class: 'rename' }, input,
    el('button', { type: 'submit', class: 'small', text: 'Save' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call('PATCH', `/api/sessions/${session.id}`, { title: input.value });
      await loadSessions();
    } catch (e) {
      showError(e.message);
    }
  });
  fill(item, form);
  input.focus();
  input.select();
}

// Deleting takes a second click on the same button: no dialog to dismiss.
function confirmDelete(button, session) {
  if (button.dataset.armed !== 'yes') {
    button.dataset.armed = 'yes';
    button.textContent = 'Really delete?';
    return;
  }
  call('DELETE', `/api/sessions/${session.id}`).then(async () => {
    if (state.current === session.id) selectSession('');
    await loadSessions();
  }).catch((e) => showError(e.message));
}

function selectSession(id) {
  state.current = id;
  if (id) localStorage.setItem(currentName, id);
  else localStorage.removeItem(currentName);
  if (!id) fill($('messages'), el('p', { class: 'empty',
    text: 'Start a new chat: write a message below.' }));
  renderSessions();
}

async function openSession(id) {
  if (state.running) return;
  try {
    const session = await call('GET', `/api/sessions/${id}`);
    selectSession(id);
    fill($('messages'), session.messages.map((m) =>
      messageNode(m.role, m.content, m.finish_reason)));
    scrollDown();
  } catch (e) {
    showError(e.message);
  }
}

// -- messages ---------------------------------------------------------------

function messageNode(role, text, finishReason) {
  const body = el('div', { class: 'body' }, renderText(text));
  const node = el('article', { class: `message ${role}` },
    el('header', { text: role === 'assistant' ? 'Assistant' : role === 'user' ? 'You' : 'System' }),
    body);
  if (finishReason) markFinished(node, finishReason);
  return node;
}

function markFinished(node, finishReason) {
  node.dataset.finishReason = finishReason;
  if (finishReason === 'cancelled')
    node.append(el('p', { class: 'note', text: 'Stopped.' }));
  else if (finishReason === 'length')
    node.append(el('p', { class: 'note', text: 'Cut at the token limit.' }));
}

function scrollDown() {
  const box = $('messages');
  box.scrollTop = box.scrollHeight;
}

function readParams() {
  const params = {};
  for (const [name, id] of Object.entries(paramInputs)) {
    const value = $(id).value.trim();
    if (value !== '') params[name] = Number(value);
  }
  return params;
}

function setRunning(running) {
  state.running = running;
  $('send').disabled = !!running;
  $('stop').disabled = !running;
}

async function send(text) {
  showError('');
  if (!state.current) {
    try {
      const session = await call('POST', '/api/sessions',
        { title: text.slice(0, 40) });
      state.sessions.unshift(session);
      selectSession(session.id);
      fill($('messages'));
    } catch (e) {
      return showError(e.message);
    }
  }
  $('messages').querySelector('.empty')?.remove();
  $('messages').append(messageNode('user', text));
  const bubble = messageNode('assistant', '');
  bubble.classList.add('streaming');
  $('messages').append(bubble);
  scrollDown();
  const id = `c${state.nextChat++}`;
  setRunning({ id, text: '', bubble, body: bubble.querySelector('.body') });
  try {
    await socket.chat(savedKey(), id, state.current, text, readParams());
  } catch (e) {
    finishRunning('error', e.message);
  }
}

function finishRunning(finishReason, error) {
  const run = state.running;
  if (!run) return;
  run.bubble.classList.remove('streaming');
  if (error) {
    run.bubble.classList.add('failed');
    run.bubble.append(el('p', { class: 'note', text: error }));
    showError(error);
  } else {
    markFinished(run.bubble, finishReason);
  }
  setRunning(null);
  loadSessions().catch((e) => showError(e.message));
}

function onFrame(frame) {
  const run = state.running;
  if (!run || frame.id !== run.id) return;
  if (frame.type === 'token') {
    run.text += frame.text;
    fill(run.body, renderText(run.text));
    scrollDown();
  } else if (frame.type === 'done') {
    finishRunning(frame.finish_reason);
  } else if (frame.type === 'error') {
    finishRunning('error', explain(0, frame.error).message);
  }
}

function onTrouble(error, closeCode) {
  if (state.running) finishRunning('error', error.message);
  if (error.status === 401 || closeCode === 4401)
    showSignIn(error.message);
}

// -- wiring -----------------------------------------------------------------

function restoreParams() {
  const saved = JSON.parse(localStorage.getItem(paramsName) || '{}');
  for (const [name, id] of Object.entries(paramInputs)) {
    if (name in saved) $(id).value = saved[name];
    $(id).addEventListener('change', () =>
      localStorage.setItem(paramsName, JSON.stringify(readParams())));
  }
}

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  saveKey($('key-input').value);
  $('key-input').value = '';
  start();
});

$('sign-out').addEventListener('click', () => {
  forgetKey();
  localStorage.removeItem(currentName);
  state.current = '';
  showSignIn('');
});

$('new-session').addEventListener('click', () => {
  if (!state.running) selectSession('');
  $('message-input').focus();
});

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('message-input').value.trim();
  if (!text || state.running) return;
  $('message-input').value = '';
  send(text);
});

$('message-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('composer').requestSubmit();
  }
});

$('stop').addEventListener('click', () => {
  if (state.running) socket.cancel(state.running.id);
});

restoreParams();
start();

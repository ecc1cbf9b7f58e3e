// The service's HTTP API from the browser: the key kept in local storage,
// JSON calls, job events over fetch (EventSource cannot send the key), and
// errors as plain sentences.

const keyName = 'chat.api_key';

export function savedKey() {
  return localStorage.getItem(keyName) || '';
}

export function saveKey(key) {
  localStorage.setItem(keyName, key.trim());
}

export function forgetKey() {
  localStorage.removeItem(keyName);
}

/** A failed call: the HTTP status, the API's error code and a sentence a
 * person can act on. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The API's error body (or a WebSocket error frame's `error`) explained. */
export function explain(status, error, retryAfter) {
  const detail = (error && error.message) || `HTTP status ${status}`;
  const code = (error && error.code) || '';
  if (status === 401 || code === 'unauthenticated' || /api_key$/.test(code))
    return new ApiError(status, code,
      `Your API key was not accepted: ${detail}. Enter a valid key.`);
  if (status === 403)
    return new ApiError(status, code, `This key may not do that: ${detail}.`);
  if (status === 429 || code === 'rate_limited') {
    const wait = retryAfter ? ` Try again in ${retryAfter} s.` : ' Try again shortly.';
    return new ApiError(status, code, `Too many requests: ${detail}.${wait}`);
  }
  if (status === 503)
    return new ApiError(status, code, `The service is not ready: ${detail}.`);
  return new ApiError(status, code, detail);
}

function headers(extra = {}) {
  return { Authorization: `Bearer ${savedKey()}`, ...extra };
}

async function failure(res) {
  let body = null;
  try {
    body = await res.json();
  } catch (_) {
    // Not the API's JSON error shape; the status says enough.
  }
  return explain(res.status, body && body.error, res.headers.get('Retry-After'));
}

/** Calls the API with an optional JSON body; resolves to the parsed answer
 * (null when empty), rejects with an ApiError. */
export async function call(method, path, body) {
  const init = { method, headers: headers(), cache: 'no-store' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, init);
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** POSTs raw bytes (a dataset) with their content type. */
export async function upload(path, contentType, bytes) {
  const res = await fetch(path, {
    method: 'POST', headers: headers({ 'Content-Type': contentType }),
    body: bytes, cache: 'no-store',
  });
  if (!res.ok) throw await failure(res);
  return res.json();
}

/** Reads a Server-Sent Events stream, calling `onData` with each event's
 * parsed `data`; resolves when the stream ends or `signal` aborts it. */
export async function followEvents(path, onData, signal) {
  const res = await fetch(path, { headers: headers(), signal, cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (data) onData(JSON.parse(data));
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
  }
}

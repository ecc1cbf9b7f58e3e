// The chat WebSocket (/v1/ws): authenticates with a first frame (browsers
// cannot set headers on a WebSocket), runs chats told apart by id.

import { explain } from './api.js';

export class ChatSocket {
  /** `onFrame(frame)` gets every start/token/done/error frame of a chat;
   * `onTrouble(ApiError)` gets errors that belong to no chat (a refused key,
   * a lost connection). */
  constructor(onFrame, onTrouble) {
    this.onFrame = onFrame;
    this.onTrouble = onTrouble;
    this.socket = null;
    this.ready = null;
  }

  /** Resolves once the socket is open and authenticated with `key`. */
  connect(key) {
    if (this.ready) return this.ready;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/v1/ws`);
    this.socket = socket;
    this.ready = new Promise((resolve, reject) => {
      socket.addEventListener('open', () => {
        socket.send(JSON.stringify({ type: 'auth', api_key: key }));
      });
      socket.addEventListener('message', (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'ready') return resolve();
        if (frame.type === 'error' && !frame.id) {
          const error = explain(0, frame.error);
          reject(error);
          return this.onTrouble(error);
        }
        this.onFrame(frame);
      });
      socket.addEventListener('close', (event) => {
        this.ready = null;
        this.socket = null;
        const error = explain(event.code === 4401 ? 401 : 0, {
          message: event.code === 4401 ? 'the server closed the connection'
            : 'the connection to the server was lost',
        });
        reject(error);
        this.onTrouble(error, event.code);
      });
    });
    return this.ready;
  }

  /** Starts a chat; its frames arrive tagged with `id`. */
  async chat(key, id, sessionId, message, params) {
    await this.connect(key);
    this.socket.send(JSON.stringify({
      type: 'chat', id, session_id: sessionId, message, params,
    }));
  }

  /** Stops a running chat; its done frame says finish_reason "cancelled".
   * Waiting on the same promise as `chat` keeps the cancel after the chat
   * frame when Stop is pressed at once. */
  async cancel(id) {
    if (!this.ready) return;
    await this.ready;
    this.socket.send(JSON.stringify({ type: 'cancel', id }));
  }

  close() {
    if (this.socket) this.socket.close();
  }
}

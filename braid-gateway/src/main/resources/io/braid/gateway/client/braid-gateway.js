// braid-gateway.js: the browser client of braid-gateway. One ES module, no dependencies, no build.
//
//   import { GatewayClient } from './braid-gateway.js';
//   const client = new GatewayClient({
//     urls: ['wss://eu1.example/ws', 'wss://eu2.example/ws'],   // tried in order on (re)connect
//     credentials: 'player:ann',                                // string (sent as UTF-8) or Uint8Array
//     onPush: (seq, payload) => show(new TextDecoder().decode(payload)),
//     onEvent: (event) => console.log(event.type, event.detail),
//   });
//   const session = await client.connect();                     // {token, sessionId, url}
//   const answer = await client.call('logic.player.act', 'jump'); // Uint8Array; fails with BraidError
//
// It speaks the gateway's WebSocket JSON text frames (protobuf's JSON mapping, bytes in base64) and
// behaves like the Java GatewayClient (io.braid.gateway.client): pushes reach onPush in push_seq
// order, each number once (a repeat is counted and dropped; a skipped number is a 'gap' event);
// on a drop it reconnects (the same URL at once, then the next ones with a jittered backoff) and
// sends Resume{resume_token, last_push_seq}, so the gateway replays exactly the missed pushes
// ('resumed'; it keeps the new resume token and sends a Ping at once: that first frame proves it got
// the new token, so the gateway stops taking the old one); if the gateway refuses the resume
// (NOT_FOUND after the grace, RESOURCE_EXHAUSTED, UNAUTHENTICATED ...) it logs in afresh
// ('relogged', push numbers restart at 1). A call sent before a drop fails UNAVAILABLE (it may or
// may not have run; never resent); a call made while reconnecting waits and is sent once the
// session is back, or fails DEADLINE_EXCEEDED at its deadline. 'kicked' (the player logged in
// elsewhere) ends the client: no reconnect.
//
// Events: {type, detail, replayed}, type one of 'connected', 'disconnected', 'resumed', 'relogged',
// 'gap', 'kicked', 'closed' (the client is finished: closed, logged out, refused, gave up).

const CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'UNAVAILABLE', 'INTERNAL', 'UNAUTHENTICATED'];

const DEFAULTS = {
  pingEveryMs: 20000,
  connectTimeoutMs: 10000,
  callTimeoutMs: 10000,
  reconnectMinMs: 100,
  reconnectMaxMs: 5000,
  giveUpAfterMs: 120000,
};

/** A failure with a braid code name ('NOT_FOUND', ...) as `code`. */
export class BraidError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'BraidError';
    this.code = code;
  }
}

function codeName(value) {
  return CODES[value] ?? 'UNKNOWN';
}

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text) {
  if (!text) {
    return new Uint8Array(0);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

function toBytes(value, name) {
  if (typeof value === 'string') {
    return new TextEncoder().encode(value);
  }
  if (value instanceof Uint8Array) {
    return value;
  }
  if (value instanceof ArrayBuffer) {
    return new Uint8Array(value);
  }
  throw new TypeError(`${name} must be a string, Uint8Array or ArrayBuffer`);
}

function positive(options, name) {
  const value = options[name] ?? DEFAULTS[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, was ${value}`);
  }
  return value;
}

export class GatewayClient {
  #urls; #credentials; #onPush; #onEvent; #o;
  #state = 'new'; // new, connecting, online, waiting, finished
  #ws = null; #wsUrl = null; #urlIndex = 0; #failedAttempts = 0; #attemptIsResume = false;
  #attemptTimer = null; #retryTimer = null; #giveUpTimer = null; #pingTimer = null; #pingNonce = 0;
  #lastRead = 0; #lastError = null; #lastAttemptFailure = null; #finishReason = null;
  #session = null; #resumeToken = null; #reloginReason = null; #lastPushSeq = 0;
  #nextSeq = 0; #calls = new Map();
  #connected; #resolveConnected; #rejectConnected;

  #stats = { pushesReceived: 0, duplicatesSuppressed: 0, gaps: 0, pushesMissed: 0, disconnects: 0, resumes: 0, relogins: 0 };

  constructor(options) {
    if (!options || typeof options !== 'object') {
      throw new TypeError('GatewayClient needs options: {urls, credentials, ...}');
    }
    const urls = options.urls;
    if (!Array.isArray(urls) || urls.length === 0) {
      throw new TypeError('urls must be a non-empty array of ws:// or wss:// URLs');
    }
    for (const url of urls) {
      if (typeof url !== 'string' || !/^wss?:\/\/[^/]+/.test(url)) {
        throw new TypeError(`urls: ${url} is not a ws:// or wss:// URL`);
      }
    }
    this.#urls = [...urls];
    this.#credentials = toBytes(options.credentials ?? '', 'credentials');
    if (this.#credentials.length === 0) {
      throw new TypeError('credentials must not be empty');
    }
    this.#onPush = options.onPush ?? (() => {});
    this.#onEvent = options.onEvent ?? (() => {});
    if (typeof this.#onPush !== 'function' || typeof this.#onEvent !== 'function') {
      throw new TypeError('onPush and onEvent must be functions');
    }
    this.#o = {};
    for (const name of Object.keys(DEFAULTS)) {
      // giveUpAfterMs 0: never reconnect (and one attempt to connect)
      this.#o[name] = name === 'giveUpAfterMs' && options[name] === 0 ? 0 : positive(options, name);
    }
    if (this.#o.reconnectMaxMs < this.#o.reconnectMinMs) {
      throw new RangeError(`reconnectMaxMs (${this.#o.reconnectMaxMs}) must not be below reconnectMinMs (${this.#o.reconnectMinMs})`);
    }
    this.#connected = new Promise((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#connected.catch(() => {}); // a failure nobody asked for is not unhandled
  }

  /** 'new', 'connecting', 'online', 'waiting' (to reconnect) or 'finished'. */
  get state() {
    return this.#state;
  }

  /** What the client counted (a copy): pushes handed on, repeats dropped, gaps, drops, resumes, relogins. */
  get stats() {
    return { ...this.#stats };
  }

  /** {token, sessionId, url} of the session, or null before the first login. */
  get session() {
    return this.#session;
  }

  /** Logs in; resolves with the session, rejects with a BraidError (the gateway's code, or UNAVAILABLE). */
  connect() {
    if (this.#state === 'new') {
      this.#state = 'connecting';
      this.#startGiveUpTimer('connecting');
      this.#open();
    }
    return this.#connected;
  }

  /** Calls route ('service.method') with payload (string or bytes); resolves with the answer's bytes. */
  call(route, payload = new Uint8Array(0)) {
    if (typeof route !== 'string' || route.trim() === '') {
      return Promise.reject(new TypeError('route must be a non-blank string'));
    }
    let bytes;
    try {
      bytes = toBytes(payload, 'payload');
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#state === 'new') {
      return Promise.reject(new BraidError('FAILED_PRECONDITION', `call ${route} before connect(): connect first`));
    }
    if (this.#state === 'finished') {
      return Promise.reject(this.#finishedError());
    }
    return new Promise((resolve, reject) => {
      const call = { seq: ++this.#nextSeq, route, bytes, resolve, reject, sent: false, timer: null };
      this.#calls.set(call.seq, call);
      call.timer = setTimeout(() => this.#expire(call), this.#o.callTimeoutMs);
      if (this.#state === 'online') {
        this.#send(call);
      }
    });
  }

  /** Leaves for good (the gateway ends the session at once) and finishes the client. */
  logout() {
    const ws = this.#ws;
    if (this.#state === 'online' && ws) {
      this.#finish('closed', 'logged out', false);
      this.#write(ws, { logout: {} });
      return new Promise((resolve) => {
        const force = setTimeout(() => ws.close(), this.#o.connectTimeoutMs);
        ws.addEventListener('close', () => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    this.#finish('closed', `logged out while ${this.#state} (the gateway ends the session when its resume grace passes)`, true);
    return Promise.resolve();
  }

  /** Closes the connection without a Logout (the gateway keeps the session for its grace) and finishes. */
  close() {
    this.#finish('closed', 'closed by the client', true);
  }

  // ---- attempts ----

  #open() {
    this.#retryTimer = null;
    if (this.#state === 'finished') {
      return;
    }
    this.#state = 'connecting';
    const url = this.#urls[this.#urlIndex];
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      this.#ws = null;
      this.#attemptFailed(`cannot open ${url}: ${e.message}`);
      return;
    }
    this.#ws = ws;
    this.#wsUrl = url;
    this.#attemptTimer = setTimeout(() => {
      if (this.#ws === ws && this.#state === 'connecting') {
        this.#lastError = `no answer from ${url} within ${this.#o.connectTimeoutMs} ms`;
        ws.close();
      }
    }, this.#o.connectTimeoutMs);
    ws.onopen = () => {
      if (ws !== this.#ws || this.#state !== 'connecting') {
        return;
      }
      this.#attemptIsResume = this.#resumeToken !== null;
      this.#lastRead = Date.now();
      this.#write(ws, this.#attemptIsResume
        ? { resume: { resumeToken: this.#resumeToken, lastPushSeq: String(this.#lastPushSeq) } }
        : { login: { credentials: toBase64(this.#credentials) } });
    };
    ws.onmessage = (message) => {
      if (ws !== this.#ws) {
        return;
      }
      this.#lastRead = Date.now();
      let frame;
      try {
        frame = JSON.parse(typeof message.data === 'string' ? message.data : '');
      } catch (e) {
        this.#lastError = `the gateway sent what is not a JSON frame: ${e.message}`;
        ws.close();
        return;
      }
      this.#onFrame(ws, frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.#ws) {
        return;
      }
      this.#ws = null;
      clearTimeout(this.#attemptTimer);
      const why = this.#lastError ?? `connection closed (${event.code}${event.reason ? ' ' + event.reason : ''})`;
      this.#lastError = null;
      if (this.#state === 'online') {
        this.#dropped(why);
      } else if (this.#state === 'connecting') {
        this.#attemptFailed(why);
      }
    };
    ws.onerror = () => {}; // a close event follows
  }

  #dropped(reason) {
    this.#stopPing();
    this.#stats.disconnects++;
    this.#emit('disconnected', `${reason} (${this.#wsUrl})`);
    for (const call of [...this.#calls.values()]) {
      if (call.sent) {
        this.#fail(call, new BraidError('UNAVAILABLE', `the connection to the gateway dropped before the reply to ${call.route} (${reason}); it may or may not have run and is not resent`));
      }
    }
    this.#failedAttempts = 0;
    if (this.#o.giveUpAfterMs === 0) {
      this.#finish('closed', `connection dropped and reconnecting is off: ${reason}`, true);
      return;
    }
    this.#state = 'waiting';
    this.#startGiveUpTimer('reconnecting');
    this.#open(); // the same gateway first, at once
  }

  #attemptFailed(reason) {
    this.#ws = null;
    clearTimeout(this.#attemptTimer);
    if (this.#state === 'finished') {
      return;
    }
    this.#lastAttemptFailure = reason;
    if (this.#o.giveUpAfterMs === 0) {
      this.#giveUp(reason);
      return;
    }
    this.#failedAttempts++;
    this.#urlIndex = (this.#urlIndex + 1) % this.#urls.length;
    const exponent = Math.min(this.#failedAttempts - 1, 30);
    const delay = Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** exponent);
    this.#state = 'waiting';
    this.#retryTimer = setTimeout(() => this.#open(), delay / 2 + Math.random() * delay / 2);
  }

  #startGiveUpTimer(doing) {
    clearTimeout(this.#giveUpTimer);
    if (this.#o.giveUpAfterMs === 0) {
      return;
    }
    this.#giveUpTimer = setTimeout(() => {
      if (this.#state === 'connecting' || this.#state === 'waiting') {
        this.#giveUp(`still ${doing} after ${this.#o.giveUpAfterMs} ms; last failure: ${this.#lastAttemptFailure}`);
      }
    }, this.#o.giveUpAfterMs);
  }

  #giveUp(reason) {
    this.#finish('closed', `gave up: ${reason}`, true, new BraidError('UNAVAILABLE', `cannot reach a gateway: ${reason}`));
  }

  // ---- frames ----

  #onFrame(ws, frame) {
    if (frame.loginOk) {
      this.#loggedIn(frame.loginOk);
    } else if (frame.resumed) {
      this.#resumed(frame.resumed);
    } else if (frame.push) {
      this.#push(frame.push);
    } else if (frame.reply) {
      this.#reply(frame.reply);
    } else if (frame.kicked) {
      this.#finish('kicked', frame.kicked.reason ?? '', true);
    } else if (frame.error) {
      this.#error(ws, codeName(frame.error.code ?? 0), frame.error.message ?? '');
    }
    // pong: reading it is all a keepalive needs
  }

  #loggedIn(ok) {
    if (this.#state !== 'connecting') {
      return;
    }
    this.#online(ok);
    if (this.#reloginReason !== null) {
      this.#stats.relogins++;
      this.#lastPushSeq = 0;
      const reason = this.#reloginReason;
      this.#reloginReason = null;
      this.#emit('relogged', reason);
    } else {
      this.#emit('connected', `logged in on ${this.#wsUrl}`);
    }
    this.#resolveConnected(this.#session);
    this.#flushQueued();
  }

  #resumed(ok) {
    if (this.#state !== 'connecting' || !this.#attemptIsResume) {
      return;
    }
    this.#online(ok);
    // The proof that we read Resumed (any frame would do): from now on the gateway refuses the token
    // this resume used. Without it, that token would resume the session again if this connection
    // ended before our next call or keepalive.
    this.#ping(this.#ws);
    this.#stats.resumes++;
    this.#emit('resumed', `resumed on ${this.#wsUrl} after push ${this.#lastPushSeq}`, ok.replayed ?? 0);
    this.#flushQueued();
  }

  #online(ok) {
    this.#state = 'online';
    clearTimeout(this.#attemptTimer);
    clearTimeout(this.#giveUpTimer);
    this.#failedAttempts = 0;
    this.#resumeToken = ok.resumeToken ?? '';
    this.#session = { token: ok.token ?? '', sessionId: ok.sessionId ?? '', url: this.#wsUrl };
    this.#startPing();
  }

  #push(push) {
    if (this.#state !== 'online') {
      return;
    }
    const seq = Number(push.pushSeq ?? 0);
    if (seq <= this.#lastPushSeq) {
      this.#stats.duplicatesSuppressed++;
      return;
    }
    if (seq > this.#lastPushSeq + 1) {
      this.#stats.gaps++;
      this.#stats.pushesMissed += seq - this.#lastPushSeq - 1;
      const missing = seq === this.#lastPushSeq + 2 ? `push ${this.#lastPushSeq + 1}`
        : `pushes ${this.#lastPushSeq + 1}..${seq - 1}`;
      this.#emit('gap', `${missing} never arrived (got ${seq})`);
    }
    this.#lastPushSeq = seq;
    this.#stats.pushesReceived++;
    try {
      this.#onPush(seq, fromBase64(push.payload));
    } catch (e) {
      console.error('braid-gateway: onPush failed on push', seq, e);
    }
  }

  #reply(reply) {
    const call = this.#calls.get(Number(reply.seq ?? 0));
    if (!call || !call.sent) {
      return;
    }
    const code = codeName(reply.code ?? 0);
    if (code === 'OK') {
      this.#calls.delete(call.seq);
      clearTimeout(call.timer);
      call.resolve(fromBase64(reply.payload));
    } else {
      this.#fail(call, new BraidError(code, reply.message ?? ''));
    }
  }

  #error(ws, code, message) {
    const text = `${code}: ${message}`;
    if (this.#state === 'online') {
      this.#lastError = `gateway error ${text}`; // it closes the connection next, if it cannot go on
      return;
    }
    if (this.#state !== 'connecting') {
      return;
    }
    this.#ws = null;
    ws.close();
    if (code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED') {
      this.#attemptFailed(`${this.#attemptIsResume ? 'resume' : 'login'} refused ${text}`);
    } else if (this.#attemptIsResume) {
      // The session is gone for good (or the token is wrong): log in afresh, at once, same gateway.
      this.#resumeToken = null;
      this.#reloginReason = `resume refused ${text}`;
      clearTimeout(this.#attemptTimer);
      this.#open();
    } else {
      this.#finish('closed', `login refused ${text}`, true, new BraidError(code, `login refused: ${message}`));
    }
  }

  // ---- calls ----

  #flushQueued() {
    for (const call of [...this.#calls.values()]) {
      if (!call.sent) {
        this.#send(call);
      }
    }
  }

  #send(call) {
    call.sent = true;
    this.#write(this.#ws, { call: { seq: String(call.seq), route: call.route, payload: toBase64(call.bytes) } });
  }

  #expire(call) {
    if (this.#calls.get(call.seq) !== call) {
      return;
    }
    const why = call.sent ? `no reply to ${call.route} within ${this.#o.callTimeoutMs} ms`
      : `${call.route} not sent within ${this.#o.callTimeoutMs} ms: the client was (re)connecting`
        + (this.#lastAttemptFailure ? ` (${this.#lastAttemptFailure})` : '');
    this.#fail(call, new BraidError('DEADLINE_EXCEEDED', why));
  }

  #fail(call, error) {
    this.#calls.delete(call.seq);
    clearTimeout(call.timer);
    call.reject(error);
  }

  // ---- keepalive ----

  #startPing() {
    this.#stopPing();
    this.#pingTimer = setInterval(() => {
      const ws = this.#ws;
      if (!ws || this.#state !== 'online') {
        return;
      }
      if (Date.now() - this.#lastRead > 3 * this.#o.pingEveryMs) {
        this.#lastError = `nothing from the gateway for ${3 * this.#o.pingEveryMs} ms`;
        ws.close();
        return;
      }
      this.#ping(ws);
    }, this.#o.pingEveryMs);
  }

  #ping(ws) {
    this.#write(ws, { ping: { nonce: String(++this.#pingNonce) } });
  }

  #stopPing() {
    clearInterval(this.#pingTimer);
    this.#pingTimer = null;
  }

  #write(ws, frame) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
    }
  }

  // ---- the end ----

  #finishedError() {
    return new BraidError('FAILED_PRECONDITION', `the gateway client is finished: ${this.#finishReason}`);
  }

  #finish(type, reason, closeSocket, connectError = null) {
    if (this.#state === 'finished') {
      return;
    }
    this.#state = 'finished';
    this.#finishReason = (type === 'kicked' ? 'kicked: ' : '') + reason;
    clearTimeout(this.#attemptTimer);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#giveUpTimer);
    this.#stopPing();
    const ws = this.#ws;
    this.#ws = null;
    if (closeSocket && ws) {
      ws.close();
    }
    this.#emit(type, reason);
    for (const call of [...this.#calls.values()]) {
      this.#fail(call, this.#finishedError());
    }
    this.#rejectConnected(connectError ?? this.#finishedError());
  }

  #emit(type, detail, replayed = 0) {
    try {
      this.#onEvent({ type, detail, replayed });
    } catch (e) {
      console.error('braid-gateway: onEvent failed on', type, e);
    }
  }
}

// The page's GraphQL client: queries and mutations over POST /graphql, subscriptions
// over graphql-transport-ws on the same path. The session (access and refresh token)
// lives in localStorage; an expired access token is traded once for a new pair with
// refreshSession, and a refused refresh signs the page out.

import { acceptLanguage } from "./i18n.js";
import { REFRESH_SESSION, SIGN_OUT } from "./queries.js";

const TOKEN = "goalgraph.token";
const REFRESH = "goalgraph.refresh";

/** A request the API refused: `code` is the stable ErrorCode, `message` in the
 *  reader's language. */
export class ApiError extends Error {
  constructor(code, message, field = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

export const session = {
  get token() {
    return localStorage.getItem(TOKEN);
  },
  get refreshToken() {
    return localStorage.getItem(REFRESH);
  },
  save(token, refreshToken) {
    localStorage.setItem(TOKEN, token);
    if (refreshToken) localStorage.setItem(REFRESH, refreshToken);
    else localStorage.removeItem(REFRESH);
  },
  clear() {
    localStorage.removeItem(TOKEN);
    localStorage.removeItem(REFRESH);
  },
};

const signedOutListeners = new Set();

/** Called when the session ends (refused token, failed refresh, sign-out). */
export function whenSignedOut(listener) {
  signedOutListeners.add(listener);
}

function signedOut() {
  session.clear();
  for (const listener of signedOutListeners) listener();
}

async function post(query, variables, token) {
  const headers = { "Content-Type": "application/json", "Accept-Language": acceptLanguage() };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("HTTP_" + response.status, response.statusText || String(response.status));
  }
  return body;
}

let refreshing = null;

/** Trades the refresh token for a new session once, however many requests wait on it. */
async function refresh() {
  const refreshToken = session.refreshToken;
  if (!refreshToken) return false;
  refreshing ??= post(REFRESH_SESSION, { refreshToken })
    .then((body) => {
      const result = body.data?.refreshSession;
      if (!result?.session) return false;
      session.save(result.session.accessToken, result.session.refreshToken);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Longest wait for a rate-limited request before it is retried; longer waits fail. */
const MAX_RETRY_AFTER_S = 15;
const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** POST, and once more after the server's Retry-After when the caller's cost budget
 *  ran dry (RATE_LIMITED): a burst of views refills within seconds. */
async function postPatiently(query, variables, token) {
  let body = await post(query, variables, token);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const error = body.errors?.[0];
    const wait = Number(error?.extensions?.retryAfter ?? 1);
    if (error?.extensions?.code !== "RATE_LIMITED" || wait > MAX_RETRY_AFTER_S) break;
    await sleep(wait);
    body = await post(query, variables, token);
  }
  return body;
}

/** The data of a query; throws ApiError with the first error's code and message. */
export async function gql(query, variables = {}, { anonymous = false } = {}) {
  let body = await postPatiently(query, variables, anonymous ? null : session.token);
  const code = body.errors?.[0]?.extensions?.code;
  if (!anonymous && code === "UNAUTHENTICATED") {
    if (await refresh()) body = await postPatiently(query, variables, session.token);
    if (body.errors?.[0]?.extensions?.code === "UNAUTHENTICATED") {
      signedOut();
    }
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.extensions?.code || "ERROR", first.message);
  }
  return body.data;
}

/** Runs mutation `name` and returns its payload; a payload's UserError becomes an
 *  ApiError, so callers handle refusals in one place. */
export async function mutate(name, document, variables = {}) {
  const data = await gql(document, variables);
  const payload = data[name];
  const problem = payload?.errors?.[0];
  if (problem) throw new ApiError(problem.code, problem.message, problem.field);
  return payload;
}

/** Ends the session on the server, and here whatever the server answers. */
export function signOut() {
  return gql(SIGN_OUT).then(signedOut, signedOut);
}

// --- subscriptions: one socket, graphql-transport-ws, reconnecting -----------------

const liveListeners = new Set();
/** Called with true/false as the socket comes and goes. */
export function onLiveChange(listener) {
  liveListeners.add(listener);
}

const subscriptions = new Map(); // id → {query, variables, next, onResync}
let socket = null;
let ready = false;
let retries = 0;
let counter = 0;
let reconnectTimer = null;

function setLive(value) {
  for (const listener of liveListeners) listener(value);
}

function send(message) {
  if (socket && ready) socket.send(JSON.stringify(message));
}

function start(id) {
  const { query, variables } = subscriptions.get(id);
  send({ id, type: "subscribe", payload: { query, variables } });
}

function connect() {
  if (socket || !session.token || subscriptions.size === 0) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/graphql`, "graphql-transport-ws");
  const current = socket;
  socket.onopen = () => {
    current.send(
      JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${session.token}` } })
    );
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "connection_ack") {
      const reconnected = retries > 0;
      ready = true;
      retries = 0;
      setLive(true);
      for (const id of subscriptions.keys()) start(id);
      // events may have been missed while away: each subscriber re-reads
      if (reconnected) for (const sub of subscriptions.values()) sub.onResync?.();
    } else if (message.type === "next") {
      const sub = subscriptions.get(message.id);
      if (sub && message.payload?.data) sub.next(message.payload.data);
    } else if (message.type === "ping") {
      current.send(JSON.stringify({ type: "pong" }));
    } else if (message.type === "error") {
      console.warn("subscription refused", message.payload);
      subscriptions.delete(message.id);
    }
  };
  socket.onclose = async (event) => {
    if (socket === current) {
      socket = null;
      ready = false;
      setLive(false);
    }
    if (event.code === 4403 || event.code === 4401) {
      // the token was refused: a fresh one, or the session is over
      if (!(await refresh())) return signedOut();
    }
    scheduleReconnect();
  };
}

function scheduleReconnect() {
  if (reconnectTimer || subscriptions.size === 0 || !session.token) return;
  const wait = Math.min(30000, 500 * 2 ** retries) * (0.75 + Math.random() / 2);
  retries += 1;
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    connect();
  }, wait);
}

/** Subscribes; `next(data)` gets each event, `onResync()` is called after a reconnect.
 *  Returns the function that unsubscribes. */
export function subscribe(query, variables, next, onResync) {
  const id = String(++counter);
  subscriptions.set(id, { query, variables, next, onResync });
  if (ready) start(id);
  else connect();
  return () => {
    if (!subscriptions.delete(id)) return;
    send({ id, type: "complete" });
    if (subscriptions.size === 0 && socket) {
      socket.close(1000);
      socket = null;
      ready = false;
    }
  };
}

/** Closes the socket and forgets every subscription (on sign-out). */
export function closeAll() {
  subscriptions.clear();
  if (socket) socket.close(1000);
  socket = null;
  ready = false;
}

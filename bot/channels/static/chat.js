// The customer's web chat over /api/v1/chat: vanilla ES2020, no dependencies, no build step.
//
// - The conversation id (the page's only credential) is kept in localStorage, so a reload
//   continues the conversation and shows its history.
// - The bot's replies to a message come back in the POST's answer; later messages (notices,
//   a person's replies) arrive through server-sent events, or by polling while the stream is
//   down. Every message is shown once: stored messages are known by id, and the customer's own
//   messages (shown at once, before they have an id) are matched when their stored copy comes
//   back (by text, else in order: the stored text can differ, e.g. a pasted key is masked).
// - Message text is only ever set with textContent, never parsed as HTML.
"use strict";

const API = "/api/v1/chat";
const STORE = "kamidesk.chat.conversation";
const POLL_MS = 3000;
const RETRY_MS = [1000, 3000, 10000, 30000];
const LANGUAGE_TAG = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/;

const STRINGS = {
  en: {
    title: "Customer support",
    presence: "We usually reply right away",
    reconnecting: "Reconnecting…",
    restart: "New conversation",
    label: "Your message",
    placeholder: "Type your message…",
    send: "Send",
    typing: "The assistant is typing…",
    you: "You",
    bot: "Assistant",
    agent: "Support agent",
    welcome: "Hi! Tell me your order number or what went wrong, and I'll sort it out.",
    suggestions: ["Where is my order?", "My key doesn't work", "I'd like a refund"],
    notSent: "Not sent",
    offline: "You're offline. Your message was not sent; please check your connection.",
    network: "We couldn't reach the server. Please check your connection and try again.",
    busy: "You're sending messages a bit fast. Please wait a moment and try again.",
    server: "Sorry, something went wrong on our side. Please try again in a moment.",
    refused: "Sorry, that message couldn't be sent. Please shorten it or try again.",
    restarted: "That conversation has ended, so we started a new one.",
  },
  "zh-CN": {
    title: "在线客服",
    presence: "通常会立即回复",
    reconnecting: "正在重新连接…",
    restart: "新对话",
    label: "您的消息",
    placeholder: "请输入消息…",
    send: "发送",
    typing: "客服正在输入…",
    you: "您",
    bot: "智能客服",
    agent: "人工客服",
    welcome: "您好！请告诉我您的订单号或遇到的问题，我马上为您处理。",
    suggestions: ["我的订单到哪了？", "卡密无法使用", "我要退款"],
    notSent: "未发送",
    offline: "网络已断开，消息未发送，请检查网络连接。",
    network: "暂时无法连接服务器，请检查网络后重试。",
    busy: "您发送得有点快，请稍等片刻再试。",
    server: "抱歉，我们这边出了点问题，请稍后再试。",
    refused: "抱歉，这条消息无法发送，请缩短后重试。",
    restarted: "之前的对话已结束，已为您开始新的对话。",
  },
  "zh-TW": {
    title: "線上客服",
    presence: "通常會立即回覆",
    reconnecting: "正在重新連線…",
    restart: "新對話",
    label: "您的訊息",
    placeholder: "請輸入訊息…",
    send: "傳送",
    typing: "客服正在輸入…",
    you: "您",
    bot: "智慧客服",
    agent: "真人客服",
    welcome: "您好！請告訴我您的訂單編號或遇到的問題，我馬上為您處理。",
    suggestions: ["我的訂單到哪了？", "卡密無法使用", "我要退款"],
    notSent: "未傳送",
    offline: "網路已中斷，訊息未傳送，請檢查網路連線。",
    network: "暫時無法連線到伺服器，請檢查網路後重試。",
    busy: "您傳送得有點快，請稍候再試。",
    server: "抱歉，我們這邊出了點問題，請稍後再試。",
    refused: "抱歉，這則訊息無法傳送，請縮短後重試。",
    restarted: "先前的對話已結束，已為您開始新的對話。",
  },
};

/** The first browser language we can serve: the tag to send, and the page's language. */
function pickLanguage(tags) {
  for (const tag of tags) {
    const parts = String(tag).toLowerCase().split(/[-_]/);
    if (parts[0] === "zh") {
      const traditional = parts.some((p) => ["tw", "hk", "mo", "hant"].includes(p));
      return { tag, ui: traditional ? "zh-TW" : "zh-CN" };
    }
    if (parts[0] === "en") return { tag, ui: "en" };
  }
  return { tag: tags[0], ui: "en" };
}

const language = pickLanguage(
  navigator.languages?.length ? navigator.languages : [navigator.language || "en"],
);
const t = STRINGS[language.ui];
const $ = (id) => document.getElementById(id);
const ui = {
  log: $("log"), thread: document.querySelector(".thread"), typing: $("typing"),
  notice: $("notice"), form: $("composer"), text: $("text"), send: $("send"),
  restart: $("restart"), presence: $("presence"),
};
const clock = new Intl.DateTimeFormat(language.ui, { hour: "2-digit", minute: "2-digit" });

const state = {
  id: null,        // the conversation id
  cursor: 0,       // the last transcript id received (stream, polling, history)
  shown: new Set(), // ids of the messages on the page
  pending: [],     // this tab's messages waiting for their stored copy: {bubble, text, sure}
  busy: false,     // a message is being sent
  held: [],        // transcript messages that arrived while sending (shown after the replies)
  stream: null, poll: null, retry: null, failures: 0,
};

const storage = {
  get() { try { return localStorage.getItem(STORE); } catch { return null; } },
  set(id) { try { localStorage.setItem(STORE, id); } catch { /* private mode: no resume */ } },
  clear() { try { localStorage.removeItem(STORE); } catch { /* nothing stored */ } },
};

class HttpError extends Error {
  constructor(status) { super(`HTTP ${status}`); this.status = status; }
}

async function call(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  if (!response.ok) throw new HttpError(response.status);
  return response.json();
}

// -- rendering --------------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function bubble({ id, from, text, buttons, at, name }) {
  const item = el("li", `msg from-${from}`);
  if (id != null) item.dataset.id = String(id);
  const agent = name ? `${name} · ${t.agent}` : t.agent;
  const who = from === "customer" ? t.you : from === "agent" ? agent : t.bot;
  item.append(el("span", from === "agent" ? "who" : "who sr-only", who));
  item.append(el("p", "text", text));
  if (buttons?.length) item.append(choices(buttons));
  const stamp = at ? new Date(at) : new Date();
  const when = Number.isNaN(stamp.getTime()) ? new Date() : stamp;
  const time = el("time", "at", clock.format(when));
  time.dateTime = when.toISOString();
  item.append(time);
  return item;
}

function choices(buttons, onTap = tap) {
  const group = el("div", "choices");
  group.setAttribute("role", "group");
  for (const { title, payload } of buttons) {
    const button = el("button", "choice", title);
    button.type = "button";
    button.addEventListener("click", () => onTap(group, button, payload, title));
    group.append(button);
  }
  return group;
}

function setChoices(group, enabled) {
  for (const button of group.querySelectorAll("button")) button.disabled = !enabled;
}

/** Once the customer has moved on, earlier buttons are stale. */
function retireChoices() {
  for (const group of ui.log.querySelectorAll(".choices")) setChoices(group, false);
}

function append(item) {
  if (item.classList.contains("from-customer")) retireChoices();
  ui.log.append(item);
  ui.thread.scrollTop = ui.thread.scrollHeight;
  return item;
}

function welcome() {
  const item = bubble({ from: "bot", text: t.welcome });
  item.classList.add("welcome");
  item.querySelector("time").remove();
  const suggest = (group, button, _payload, title) => {
    setChoices(group, false);
    sendText(title);
  };
  item.append(choices(t.suggestions.map((s) => ({ title: s, payload: s })), suggest));
  ui.log.append(item);
}

/** A transcript message (history, stream, polling), or a reply to a POST. */
function accept(message, { transcript }) {
  if (transcript) state.cursor = Math.max(state.cursor, message.id);
  if (message.id != null) {
    if (state.shown.has(message.id)) return;
    state.shown.add(message.id);
  }
  const mine = message.from === "customer" && transcript ? claim(message) : null;
  if (mine) {
    mine.dataset.id = String(message.id);
    mine.classList.remove("failed");
    mine.querySelector(".status")?.remove();
  } else {
    append(bubble(message));
  }
}

/** The bubble this tab showed for a stored customer message, if it sent it. A message whose
 *  sending failed on the network ("not sure") is only claimed by its exact text. */
function claim(message) {
  const mine =
    state.pending.find((p) => p.text === message.text) || state.pending.find((p) => p.sure);
  if (!mine) return null;
  state.pending.splice(state.pending.indexOf(mine), 1);
  return mine.bubble;
}

function receive(messages) {
  if (state.busy) state.held.push(...messages);
  else for (const m of messages) accept(m, { transcript: true });
}

function notify(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

function showPresence(connected) {
  ui.presence.textContent = connected ? t.presence : t.reconnecting;
  ui.presence.classList.toggle("down", !connected);
}

// -- the conversation -------------------------------------------------------------------------

async function ensureConversation() {
  if (state.id) return;
  const user = LANGUAGE_TAG.test(language.tag || "") ? { language: language.tag } : {};
  const { conversation_id: id } = await call("POST", "/conversations", { user });
  state.id = id;
  storage.set(id);
  listen();
}

function forget() {
  hangUp();
  storage.clear();
  Object.assign(state, { id: null, cursor: 0, shown: new Set(), pending: [], held: [] });
}

async function resume(id) {
  state.id = id;
  ui.log.setAttribute("aria-busy", "true");
  try {
    for (;;) {
      const { messages } = await call("GET", transcriptPath(id));
      for (const m of messages) accept(m, { transcript: true });
      if (!messages.length) break;
    }
    listen();
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) forget();
    else { notify(explain(err)); listen(); }
  } finally {
    ui.log.removeAttribute("aria-busy");
  }
}

function transcriptPath(id, what = "messages") {
  return `/conversations/${encodeURIComponent(id)}/${what}?after=${state.cursor}`;
}

function restart() {
  if (state.busy) return;
  forget();
  ui.log.replaceChildren();
  notify("");
  welcome();
  ui.text.focus();
}

// -- later messages: the stream, polling while it is down ------------------------------------

function listen() {
  hangUp();
  if (!state.id) return;
  if (!window.EventSource) { startPolling(); return; }
  const stream = new EventSource(API + transcriptPath(state.id, "stream"));
  stream.onopen = () => { state.failures = 0; stopPolling(); showPresence(true); };
  stream.onmessage = (event) => {
    try { receive([JSON.parse(event.data)]); } catch { /* not a message */ }
  };
  stream.onerror = () => {
    // EventSource would retry from the first cursor; reconnect ourselves from the current one.
    stream.close();
    state.stream = null;
    showPresence(false);
    startPolling();
    const wait = RETRY_MS[Math.min(state.failures++, RETRY_MS.length - 1)];
    state.retry = setTimeout(listen, wait);
  };
  state.stream = stream;
}

function hangUp() {
  state.stream?.close();
  state.stream = null;
  clearTimeout(state.retry);
  stopPolling();
}

function startPolling() {
  if (state.poll || !state.id) return;
  const id = state.id;
  const poll = async () => {
    try {
      const { messages } = await call("GET", transcriptPath(id));
      if (id === state.id) receive(messages);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404 && id === state.id) forget();
    }
  };
  poll();
  state.poll = setInterval(poll, POLL_MS);
}

function stopPolling() {
  clearInterval(state.poll);
  state.poll = null;
}

// -- sending ----------------------------------------------------------------------------------

function explain(err) {
  if (!(err instanceof HttpError)) return navigator.onLine === false ? t.offline : t.network;
  if (err.status === 429) return t.busy;
  if (err.status >= 500) return t.server;
  return t.refused;
}

async function deliver(body, shown, stored) {
  if (state.busy) return false;
  state.busy = true;
  ui.send.disabled = ui.restart.disabled = true;
  const bubbleShown = append(bubble({ from: "customer", text: shown }));
  const mine = { bubble: bubbleShown, text: stored, sure: true };
  state.pending.push(mine);
  ui.typing.hidden = false;
  ui.thread.scrollTop = ui.thread.scrollHeight;
  try {
    await ensureConversation();
    let answer;
    let note = "";
    try {
      answer = await call("POST", "/messages", { conversation_id: state.id, ...body });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 404) throw err;
      forget(); // the server no longer knows this conversation (e.g. a rebuilt demo shop)
      state.pending.push(mine);
      await ensureConversation();
      answer = await call("POST", "/messages", { conversation_id: state.id, ...body });
      note = t.restarted;
    }
    notify(note);
    for (const reply of answer.replies) accept({ ...reply, from: "bot" }, { transcript: false });
    return true;
  } catch (err) {
    // An HTTP error means nothing was stored; after a network error it may have been, and the
    // stored copy (if any) clears the mark when it arrives.
    if (err instanceof HttpError) state.pending = state.pending.filter((p) => p !== mine);
    else mine.sure = false;
    bubbleShown.classList.add("failed");
    bubbleShown.append(el("span", "status", t.notSent));
    notify(explain(err));
    return false;
  } finally {
    state.busy = false;
    ui.send.disabled = ui.restart.disabled = false;
    ui.typing.hidden = true;
    const held = state.held.splice(0);
    for (const m of held) accept(m, { transcript: true });
  }
}

async function sendText(text) {
  return deliver({ text }, text, text);
}

async function tap(group, button, payload, title) {
  if (button.disabled) return;
  setChoices(group, false);
  button.classList.add("chosen");
  // The transcript stores a tap as "[title]".
  if (!(await deliver({ payload }, title, `[${title}]`))) {
    button.classList.remove("chosen");
    setChoices(group, true);
  }
}

async function submit(event) {
  event.preventDefault();
  const text = ui.text.value.trim();
  if (!text || state.busy) return;
  ui.text.value = "";
  grow();
  if (!(await sendText(text)) && !ui.text.value) {
    ui.text.value = text; // let the customer send it again
    grow();
  }
}

function grow() {
  ui.text.style.height = "auto";
  ui.text.style.height = `${Math.min(ui.text.scrollHeight, 160)}px`;
}

// -- start ------------------------------------------------------------------------------------

function translate() {
  document.documentElement.lang = language.ui;
  document.title = t.title;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t[node.dataset.i18n];
  }
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t[node.dataset.i18nPlaceholder];
  }
  for (const node of document.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t[node.dataset.i18nLabel]);
    node.title = t[node.dataset.i18nLabel];
  }
}

function start() {
  translate();
  welcome();
  ui.form.addEventListener("submit", submit);
  ui.text.addEventListener("input", grow);
  ui.text.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition is neither.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  ui.restart.addEventListener("click", restart);
  window.addEventListener("offline", () => notify(t.offline));
  window.addEventListener("online", () => { notify(""); if (state.id) listen(); });
  const saved = storage.get();
  if (saved) resume(saved);
}

start();

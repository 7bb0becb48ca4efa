/*
 * PVO-assistent chat button.
 *
 * One script tag puts the button on any page:
 *   <script>window.PVOChat = {server: "https://chat.example.nl", privacyUrl: "..."};</script>
 *   <script src="https://api.example.nl/widget/pvo-chat.js" defer></script>
 *
 * Visitor-facing texts come from templates/web/widget_strings.nl.json (the server prepends them as
 * window.PVOChatStrings); `window.PVOChat.strings` may override single texts.
 * No framework: the pure logic below is exported for the node unit tests (tests/widget/), the
 * browser part runs only when a document exists. Message text is only ever set with textContent.
 */
(function (root) {
  "use strict";

  var MAX_MESSAGE_CHARS = 1000;
  var MAX_HISTORY_ENTRIES = 200;
  var MAX_TEXT_CHARS = 5000;
  var MAX_REPLIES = 12;
  var STORAGE_KEY = "pvo-chat";
  // Shorter sensitive answers ("ja", "nee") are not blanked out of later bot messages.
  var MIN_SECRET_CHARS = 3;
  // Bare http(s) addresses and markdown links [label](https://...) become anchors; anything else
  // (javascript:, data:, relative paths) stays plain text.
  var LINK_PATTERN = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>"')\]]{1,2000})/g;

  // --- pure logic (unit-tested in node) -------------------------------------------------------

  function safeUrl(value) {
    if (typeof value !== "string" || value.length > 2000) return null;
    var url;
    try {
      url = new URL(value);
    } catch (e) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    if (url.username || url.password) return null;
    return url.href;
  }

  /** Splits a bot text into text and link parts; only http(s) links survive as links. */
  function splitLinks(text) {
    var parts = [];
    var source = String(text == null ? "" : text);
    var last = 0;
    var match;
    LINK_PATTERN.lastIndex = 0;
    while ((match = LINK_PATTERN.exec(source)) !== null) {
      var raw = match[3];
      var href = safeUrl(match[2] !== undefined ? match[2] : raw);
      // A sentence's closing punctuation is not part of a bare address.
      var trailing = "";
      if (raw) {
        var stripped = raw.replace(/[.,;:!?]+$/, "");
        trailing = raw.slice(stripped.length);
        raw = stripped;
        href = safeUrl(raw);
      }
      if (href === null) continue;
      if (match.index > last) parts.push({ type: "text", text: source.slice(last, match.index) });
      parts.push({ type: "link", href: href, text: match[1] !== undefined ? match[1] : raw });
      if (trailing) parts.push({ type: "text", text: trailing });
      last = match.index + match[0].length;
    }
    if (last < source.length) parts.push({ type: "text", text: source.slice(last) });
    return mergeText(parts);
  }

  function mergeText(parts) {
    var merged = [];
    for (var i = 0; i < parts.length; i++) {
      var prev = merged[merged.length - 1];
      if (prev && prev.type === "text" && parts[i].type === "text") prev.text += parts[i].text;
      else merged.push(parts[i]);
    }
    return merged;
  }

  function boundedString(value, max) {
    if (typeof value !== "string") return "";
    return value.length > max ? value.slice(0, max) : value;
  }

  /** The parts of a `bot_uttered` payload the widget uses, bounded and type-checked. */
  function normaliseBotMessage(payload) {
    var data = payload && typeof payload === "object" ? payload : { text: payload };
    var rawReplies = Array.isArray(data.quick_replies)
      ? data.quick_replies
      : Array.isArray(data.buttons)
        ? data.buttons
        : [];
    var replies = [];
    for (var i = 0; i < rawReplies.length && replies.length < MAX_REPLIES; i++) {
      var reply = rawReplies[i] || {};
      var title = boundedString(reply.title, 200);
      var replyPayload = boundedString(reply.payload, MAX_MESSAGE_CHARS) || title;
      if (title) replies.push({ title: title, payload: replyPayload });
    }
    var topic = boundedString(data.topic, 100);
    return {
      text: boundedString(data.text, MAX_TEXT_CHARS),
      replies: replies,
      topic: topic || null,
      sensitiveNext: data.sensitive_next === true,
    };
  }

  /** Confirmed session id from `session_confirm` (Rasa sends a string; accept an object too). */
  function sessionIdFrom(data) {
    var value = data && typeof data === "object" ? data.session_id : data;
    return typeof value === "string" && value.length > 0 && value.length <= 200 ? value : null;
  }

  function formatString(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values || {}, name) ? String(values[name]) : whole;
    });
  }

  function mergeStrings(defaults, overrides) {
    var result = {};
    var key;
    for (key in defaults) {
      if (Object.prototype.hasOwnProperty.call(defaults, key)) result[key] = defaults[key];
    }
    if (overrides && typeof overrides === "object") {
      for (key in overrides) {
        if (Object.prototype.hasOwnProperty.call(result, key) && typeof overrides[key] === "string") {
          result[key] = overrides[key];
        }
      }
    }
    return result;
  }

  function feedbackBody(sessionId, topic, vote) {
    if (vote !== "up" && vote !== "down") throw new Error("vote must be up or down");
    return { session_id: sessionId, topic: topic, vote: vote };
  }

  /**
   * The conversation as kept in sessionStorage. The visitor's answer to a question marked
   * `sensitive_next` (access code, intake personal data) is never written: only a placeholder.
   */
  function History(storage, key) {
    this.storage = storage;
    this.key = key || STORAGE_KEY;
    this.state = this.read();
    // The sensitive answers typed in this page, in memory only: a later bot message that repeats
    // one (e.g. "Klopt het dat uw e-mailadres ... is?") is stored with it blanked out.
    this.secrets = [];
  }

  History.prototype.empty = function () {
    return { sessionId: null, entries: [], sensitiveNext: false, open: false };
  };

  History.prototype.read = function () {
    var state = this.empty();
    try {
      var raw = this.storage && this.storage.getItem(this.key);
      var parsed = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed === "object") {
        state.sessionId = typeof parsed.sessionId === "string" ? parsed.sessionId : null;
        state.entries = Array.isArray(parsed.entries) ? parsed.entries.filter(validEntry) : [];
        state.sensitiveNext = parsed.sensitiveNext === true;
        state.open = parsed.open === true;
      }
    } catch (e) {
      // Unreadable storage (private mode, corrupt JSON): start a fresh conversation.
    }
    return state;
  };

  History.prototype.write = function () {
    try {
      if (this.storage) this.storage.setItem(this.key, JSON.stringify(this.state));
    } catch (e) {
      // Storage full or blocked: the chat still works, only the reload history is lost.
    }
  };

  History.prototype.push = function (entry) {
    this.state.entries.push(entry);
    if (this.state.entries.length > MAX_HISTORY_ENTRIES) {
      this.state.entries = this.state.entries.slice(-MAX_HISTORY_ENTRIES);
    }
    this.write();
    return this.state.entries.length - 1;
  };

  History.prototype.addBot = function (message) {
    this.state.sensitiveNext = message.sensitiveNext;
    return this.push({
      from: "bot",
      text: blankOut(message.text, this.secrets),
      replies: message.replies,
      topic: message.topic,
      vote: null,
    });
  };

  /** Returns true when the text was stored, false when only a placeholder was. */
  History.prototype.addUser = function (text) {
    var sensitive = this.state.sensitiveNext;
    this.state.sensitiveNext = false;
    if (sensitive && String(text).trim().length >= MIN_SECRET_CHARS) this.secrets.push(String(text).trim());
    this.push(sensitive ? { from: "user", redacted: true } : { from: "user", text: text });
    return !sensitive;
  };

  History.prototype.setVote = function (index, vote) {
    var entry = this.state.entries[index];
    if (entry && entry.from === "bot") {
      entry.vote = vote;
      this.write();
    }
  };

  History.prototype.setSession = function (sessionId) {
    this.state.sessionId = sessionId;
    this.write();
  };

  History.prototype.setOpen = function (open) {
    this.state.open = open;
    this.write();
  };

  History.prototype.clear = function () {
    var open = this.state.open;
    this.secrets = [];
    this.state = this.empty();
    this.state.open = open;
    this.write();
  };

  /** `text` with every occurrence of a secret (case-insensitive) replaced by "…". */
  function blankOut(text, secrets) {
    var result = String(text);
    for (var i = 0; i < secrets.length; i++) {
      var escaped = secrets[i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      result = result.replace(new RegExp(escaped, "gi"), "…");
    }
    return result;
  }

  function validEntry(entry) {
    if (!entry || typeof entry !== "object") return false;
    if (entry.from === "user") return entry.redacted === true || typeof entry.text === "string";
    return entry.from === "bot" && typeof entry.text === "string";
  }

  var core = {
    MAX_MESSAGE_CHARS: MAX_MESSAGE_CHARS,
    safeUrl: safeUrl,
    splitLinks: splitLinks,
    normaliseBotMessage: normaliseBotMessage,
    sessionIdFrom: sessionIdFrom,
    formatString: formatString,
    mergeStrings: mergeStrings,
    feedbackBody: feedbackBody,
    History: History,
    blankOut: blankOut,
  };

  if (typeof module === "object" && module.exports) {
    module.exports = core;
    return;
  }
  if (!root.document || root.PVOChatCore) return; // loaded twice: keep the first button
  root.PVOChatCore = core;

  // --- browser part ---------------------------------------------------------------------------

  var doc = root.document;
  var script = doc.currentScript;
  var assetBase = script && script.src ? script.src.replace(/[^/]*(\?.*)?$/, "") : "/widget/";
  var config = root.PVOChat || {};
  var S = mergeStrings(root.PVOChatStrings || {}, config.strings);
  var serverUrl = config.server || "http://localhost:5005";
  var socketPath = config.socketPath || "/socket.io/";
  var feedbackUrl = config.feedbackUrl || new URL("../feedback", assetBase).href;
  var privacyUrl = safeUrl(config.privacyUrl || new URL("privacy", assetBase).href);
  var contactUrl = safeUrl(config.contactUrl || "https://www.pvo-brabant-zeeland.nl");
  var greeting = config.greeting || "/greet";
  // WebSocket first: it needs no CORS preflight and holds one connection; long-polling only
  // when a proxy blocks WebSockets.
  var transports = Array.isArray(config.transports) ? config.transports : ["websocket", "polling"];
  var UNREACHABLE_AFTER_FAILURES = 3;

  var history = new History(safeStorage(), STORAGE_KEY);
  var ui = null;
  var socket = null;
  var connected = false;
  var failures = 0;
  var wasConnected = false;
  var restarting = false;
  var typingTimer = null;

  function safeStorage() {
    try {
      return root.sessionStorage;
    } catch (e) {
      return null;
    }
  }

  function el(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function loadStylesheet() {
    if (doc.querySelector("link[data-pvo-chat]")) return;
    var link = el("link");
    link.rel = "stylesheet";
    link.href = assetBase + "pvo-chat.css";
    link.setAttribute("data-pvo-chat", "");
    doc.head.appendChild(link);
  }

  function loadSocketIo(callback) {
    if (typeof root.io === "function") return callback();
    var tag = el("script");
    tag.src = assetBase + "vendor/socket.io.min.js";
    tag.async = true;
    tag.onload = callback;
    tag.onerror = function () {
      showUnreachable();
    };
    doc.head.appendChild(tag);
  }

  function build() {
    var rootNode = el("div", "pvo-chat");
    var launcher = el("button", "pvo-chat__launcher", S.launcher);
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "pvo-chat-panel");

    var panel = el("section", "pvo-chat__panel");
    panel.id = "pvo-chat-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "pvo-chat-title");
    panel.hidden = true;

    var header = el("div", "pvo-chat__header");
    var title = el("h2", "pvo-chat__title", S.title);
    title.id = "pvo-chat-title";
    var restart = el("button", "pvo-chat__restart", S.newConversation);
    restart.type = "button";
    var close = el("button", "pvo-chat__close");
    close.type = "button";
    close.setAttribute("aria-label", S.close);
    var closeIcon = el("span", "", "×");
    closeIcon.setAttribute("aria-hidden", "true");
    close.appendChild(closeIcon);
    header.appendChild(title);
    header.appendChild(restart);
    header.appendChild(close);

    var notice = el("p", "pvo-chat__notice", S.notice + " ");
    if (privacyUrl) {
      var privacy = el("a", "", S.privacyLink);
      privacy.href = privacyUrl;
      privacy.target = "_blank";
      privacy.rel = "noopener noreferrer";
      privacy.appendChild(el("span", "pvo-chat__sr", " " + S.opensNewWindow));
      notice.appendChild(privacy);
    }

    var log = el("div", "pvo-chat__log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-labelledby", "pvo-chat-title");
    log.tabIndex = 0;

    var typing = el("p", "pvo-chat__typing", S.typing);
    typing.hidden = true;
    var status = el("p", "pvo-chat__status");
    status.setAttribute("role", "status");

    var form = el("form", "pvo-chat__form");
    form.noValidate = true;
    var label = el("label", "pvo-chat__sr", S.inputLabel);
    label.htmlFor = "pvo-chat-input";
    var input = el("input", "pvo-chat__input");
    input.id = "pvo-chat-input";
    input.type = "text";
    input.autocomplete = "off";
    input.maxLength = MAX_MESSAGE_CHARS;
    input.placeholder = S.inputPlaceholder;
    var send = el("button", "pvo-chat__send", S.send);
    send.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    panel.appendChild(header);
    panel.appendChild(notice);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(status);
    panel.appendChild(form);
    rootNode.appendChild(panel);
    rootNode.appendChild(launcher);
    doc.body.appendChild(rootNode);

    launcher.addEventListener("click", open);
    close.addEventListener("click", closePanel);
    restart.addEventListener("click", newConversation);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        closePanel();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitText(input.value);
    });

    return {
      launcher: launcher,
      panel: panel,
      log: log,
      typing: typing,
      status: status,
      input: input,
    };
  }

  function open() {
    ui.panel.hidden = false;
    ui.launcher.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "true");
    history.setOpen(true);
    ui.input.focus();
    connect();
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    history.setOpen(false);
    ui.launcher.focus();
  }

  function setStatus(text, linkUrl) {
    ui.status.textContent = text || "";
    if (text && linkUrl) {
      ui.status.appendChild(doc.createTextNode(" "));
      var link = el("a", "", linkUrl.replace(/^https?:\/\//, "").replace(/\/$/, ""));
      link.href = linkUrl;
      link.rel = "noopener noreferrer";
      ui.status.appendChild(link);
    }
  }

  function showUnreachable() {
    setTyping(false);
    setStatus(S.unreachable, contactUrl);
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    if (typingTimer) root.clearTimeout(typingTimer);
    typingTimer = on ? root.setTimeout(setTyping, 30000, false) : null;
  }

  function connect() {
    if (socket) return;
    setStatus(S.connecting);
    loadSocketIo(function () {
      if (socket) return;
      if (typeof root.io !== "function") return showUnreachable();
      socket = root.io(serverUrl, {
        path: socketPath,
        transports: transports,
        tryAllTransports: true,
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 10000,
        timeout: 8000,
      });
      socket.on("connect", function () {
        connected = true;
        failures = 0;
        setStatus(wasConnected && !restarting ? S.reconnected : "");
        wasConnected = true;
        restarting = false;
        var request = {};
        if (history.state.sessionId) request.session_id = history.state.sessionId;
        socket.emit("session_request", request);
      });
      socket.on("session_confirm", function (data) {
        var sessionId = sessionIdFrom(data);
        if (!sessionId) return;
        history.setSession(sessionId);
        if (history.state.entries.length === 0) {
          // A new conversation: the welcome message is the answer to the greeting intent.
          setTyping(true);
          socket.emit("user_uttered", { message: greeting, session_id: sessionId });
        }
      });
      socket.on("bot_uttered", function (payload) {
        var message = normaliseBotMessage(payload);
        if (!message.text && message.replies.length === 0) return;
        setTyping(false);
        var index = history.addBot(message);
        renderBot(history.state.entries[index], index, true);
      });
      socket.on("disconnect", function () {
        connected = false;
        if (!restarting) setStatus(S.reconnecting);
      });
      socket.on("connect_error", function () {
        connected = false;
        failures += 1;
        setStatus(failures >= UNREACHABLE_AFTER_FAILURES ? "" : S.connecting);
        if (failures >= UNREACHABLE_AFTER_FAILURES) showUnreachable();
      });
    });
  }

  function submitText(value) {
    var text = String(value || "").trim();
    if (!text) return;
    if (text.length > MAX_MESSAGE_CHARS) {
      setStatus(formatString(S.tooLong, { max: MAX_MESSAGE_CHARS }));
      return;
    }
    if (sendMessage(text, text)) ui.input.value = "";
  }

  /** Sends `payload` to the engine and shows `shown` as the visitor's message. */
  function sendMessage(payload, shown) {
    if (!socket || !connected || !history.state.sessionId) {
      setStatus(S.notSent);
      return false;
    }
    removeReplies();
    setStatus("");
    var stored = history.addUser(shown);
    renderUser(stored ? shown : null, shown);
    socket.emit("user_uttered", { message: payload, session_id: history.state.sessionId });
    setTyping(true);
    return true;
  }

  function removeReplies() {
    var groups = ui.log.querySelectorAll(".pvo-chat__replies");
    for (var i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
  }

  function appendMessage(node) {
    ui.log.appendChild(node);
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function renderUser(storedText, shownText) {
    var node = el("div", "pvo-chat__msg pvo-chat__msg--user");
    node.appendChild(el("span", "pvo-chat__sr", S.you + " "));
    if (storedText === null && shownText === undefined) {
      node.classList.add("pvo-chat__msg--redacted");
      node.appendChild(doc.createTextNode(S.notStored));
    } else {
      node.appendChild(doc.createTextNode(shownText !== undefined ? shownText : storedText));
    }
    appendMessage(node);
  }

  function renderBot(entry, index, live) {
    var node = el("div", "pvo-chat__msg pvo-chat__msg--bot");
    node.appendChild(el("span", "pvo-chat__sr", S.assistant + " "));
    var parts = splitLinks(entry.text);
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].type === "link") {
        var link = el("a", "", parts[i].text);
        link.href = parts[i].href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.appendChild(el("span", "pvo-chat__sr", " " + S.opensNewWindow));
        node.appendChild(link);
      } else {
        node.appendChild(doc.createTextNode(parts[i].text));
      }
    }
    appendMessage(node);
    if (entry.topic) appendMessage(renderFeedback(entry, index));
    if (live && entry.replies && entry.replies.length) appendMessage(renderReplies(entry.replies));
  }

  function renderReplies(replies) {
    var group = el("div", "pvo-chat__replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", S.repliesLabel);
    replies.forEach(function (reply) {
      var button = el("button", "pvo-chat__reply", reply.title);
      button.type = "button";
      button.addEventListener("click", function () {
        if (sendMessage(reply.payload, reply.title)) ui.input.focus();
      });
      group.appendChild(button);
    });
    return group;
  }

  function renderFeedback(entry, index) {
    var box = el("div", "pvo-chat__feedback");
    if (entry.vote) {
      box.appendChild(el("span", "", S.feedbackThanks));
      return box;
    }
    var question = el("span", "", S.feedbackQuestion + " ");
    box.appendChild(question);
    [
      ["up", "👍", S.feedbackUp],
      ["down", "👎", S.feedbackDown],
    ].forEach(function (choice) {
      var button = el("button", "pvo-chat__vote", choice[1]);
      button.type = "button";
      button.setAttribute("aria-label", choice[2]);
      button.addEventListener("click", function () {
        vote(entry, index, choice[0], box);
      });
      box.appendChild(button);
    });
    return box;
  }

  function vote(entry, index, choice, box) {
    var buttons = box.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    root
      .fetch(feedbackUrl, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(feedbackBody(history.state.sessionId, entry.topic, choice)),
      })
      .then(function (response) {
        if (!response.ok) throw new Error("feedback refused");
        history.setVote(index, choice);
        box.textContent = "";
        box.appendChild(el("span", "", S.feedbackThanks));
        box.setAttribute("role", "status");
      })
      .catch(function () {
        for (var j = 0; j < buttons.length; j++) buttons[j].disabled = false;
        setStatus(S.feedbackFailed);
      });
  }

  function restoreHistory() {
    var entries = history.state.entries;
    // Restored messages are not announced again: the live region only speaks for new ones.
    ui.log.setAttribute("aria-live", "off");
    for (var i = 0; i < entries.length; i++) {
      if (entries[i].from === "bot") renderBot(entries[i], i, i === entries.length - 1);
      else if (entries[i].redacted) renderUser(null);
      else renderUser(entries[i].text);
    }
    ui.log.setAttribute("aria-live", "polite");
  }

  function newConversation() {
    history.clear();
    ui.log.textContent = "";
    setTyping(false);
    ui.input.value = "";
    ui.input.focus();
    if (socket) {
      // A fresh socket.io session gets a fresh conversation id; the old one is forgotten.
      restarting = true;
      socket.disconnect();
      socket.connect();
    }
  }

  function start() {
    loadStylesheet();
    ui = build();
    restoreHistory();
    if (history.state.open) {
      ui.panel.hidden = false;
      ui.launcher.hidden = true;
      ui.launcher.setAttribute("aria-expanded", "true");
      connect();
    }
  }

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else start();
})(typeof window !== "undefined" ? window : this);

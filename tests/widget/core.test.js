// Unit tests of the chat widget's pure logic: links, bot payloads, history and its privacy rule.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const core = require("../../api/static/widget/pvo-chat.js");

const REPO = path.resolve(__dirname, "..", "..");

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
}

test("bare https addresses become links, closing punctuation stays text", () => {
  const parts = core.splitLinks("Kijk op https://www.hetccv.nl/kvo. Daarna verder.");
  assert.deepEqual(parts, [
    { type: "text", text: "Kijk op " },
    { type: "link", href: "https://www.hetccv.nl/kvo", text: "https://www.hetccv.nl/kvo" },
    { type: "text", text: ". Daarna verder." },
  ]);
});

test("markdown links keep their label", () => {
  const parts = core.splitLinks("Zie [de website](https://pvo-brabant-zeeland.nl/) voor meer.");
  assert.equal(parts[1].type, "link");
  assert.equal(parts[1].text, "de website");
  assert.equal(parts[1].href, "https://pvo-brabant-zeeland.nl/");
});

test("javascript:, data: and relative links stay plain text", () => {
  for (const text of [
    "[klik](javascript:alert(1))",
    "[klik](data:text/html,<b>x</b>)",
    "[klik](/relatief)",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">x</a>',
  ]) {
    const parts = core.splitLinks(text);
    assert.ok(
      parts.every((part) => part.type === "text"),
      `${text} must not become a link: ${JSON.stringify(parts)}`,
    );
    assert.equal(parts.map((part) => part.text).join(""), text);
  }
});

test("links with credentials are refused", () => {
  assert.equal(core.safeUrl("https://user:pw@example.nl/"), null);
  assert.equal(core.safeUrl("http://example.nl/pad?x=1"), "http://example.nl/pad?x=1");
  assert.equal(core.safeUrl("ftp://example.nl/"), null);
  assert.equal(core.safeUrl(42), null);
});

test("html in text is kept as text, never interpreted", () => {
  const text = "<img src=x onerror=alert(1)>";
  assert.deepEqual(core.splitLinks(text), [{ type: "text", text }]);
});

test("bot payload: quick replies, topic and sensitive_next", () => {
  const message = core.normaliseBotMessage({
    text: "Wat wilt u weten?",
    quick_replies: [
      { content_type: "text", title: "Kosten", payload: "/faq_kosten" },
      { title: "", payload: "/leeg" },
      { title: "Zonder payload" },
    ],
    topic: "faq/kosten",
    sensitive_next: true,
  });
  assert.equal(message.text, "Wat wilt u weten?");
  assert.deepEqual(message.replies, [
    { title: "Kosten", payload: "/faq_kosten" },
    { title: "Zonder payload", payload: "Zonder payload" },
  ]);
  assert.equal(message.topic, "faq/kosten");
  assert.equal(message.sensitiveNext, true);
});

test("bot payload: buttons are accepted too, odd input is bounded", () => {
  const message = core.normaliseBotMessage({
    text: "x".repeat(10000),
    buttons: Array.from({ length: 50 }, (_, i) => ({ title: `knop ${i}`, payload: `/k${i}` })),
    sensitive_next: "yes",
    topic: 5,
  });
  assert.equal(message.text.length, 5000);
  assert.equal(message.replies.length, 12);
  assert.equal(message.sensitiveNext, false);
  assert.equal(message.topic, null);
  assert.deepEqual(core.normaliseBotMessage(null).replies, []);
  assert.equal(core.normaliseBotMessage("los").text, "los");
});

test("session id from session_confirm: string or object, bounded", () => {
  assert.equal(core.sessionIdFrom("abc.def"), "abc.def");
  assert.equal(core.sessionIdFrom({ session_id: "abc" }), "abc");
  assert.equal(core.sessionIdFrom(""), null);
  assert.equal(core.sessionIdFrom("x".repeat(201)), null);
  assert.equal(core.sessionIdFrom(undefined), null);
});

test("history survives a reload and keeps the session id", () => {
  const storage = new MemoryStorage();
  const history = new core.History(storage, "k");
  history.setSession("sid-1");
  history.addBot(core.normaliseBotMessage({ text: "Welkom", quick_replies: [] }));
  history.addUser("Wat kost het KVO?");
  const reloaded = new core.History(storage, "k");
  assert.equal(reloaded.state.sessionId, "sid-1");
  assert.deepEqual(
    reloaded.state.entries.map((entry) => entry.text),
    ["Welkom", "Wat kost het KVO?"],
  );
});

test("the answer to a sensitive question is never stored", () => {
  const storage = new MemoryStorage();
  const history = new core.History(storage, "k");
  history.addBot(core.normaliseBotMessage({ text: "Wat is uw toegangscode?", sensitive_next: true }));
  assert.equal(history.addUser("GEHEIM-1234"), false);
  assert.ok(!storage.getItem("k").includes("GEHEIM-1234"));
  assert.deepEqual(history.state.entries[1], { from: "user", redacted: true });
  // Only the one answer: the next message is stored again.
  history.addBot(core.normaliseBotMessage({ text: "Dank u." }));
  assert.equal(history.addUser("Wat is een schouw?"), true);
  assert.ok(storage.getItem("k").includes("Wat is een schouw?"));
});

test("a sensitive question survives a reload before it is answered", () => {
  const storage = new MemoryStorage();
  new core.History(storage, "k").addBot(
    core.normaliseBotMessage({ text: "Wat is uw e-mailadres?", sensitive_next: true }),
  );
  const reloaded = new core.History(storage, "k");
  assert.equal(reloaded.addUser("iemand@example.nl"), false);
  assert.ok(!storage.getItem("k").includes("iemand@example.nl"));
});

test("new conversation clears messages and session id", () => {
  const storage = new MemoryStorage();
  const history = new core.History(storage, "k");
  history.setSession("sid-1");
  history.addUser("hallo");
  history.clear();
  const reloaded = new core.History(storage, "k");
  assert.equal(reloaded.state.sessionId, null);
  assert.deepEqual(reloaded.state.entries, []);
});

test("corrupt or foreign storage content starts a fresh history", () => {
  const storage = new MemoryStorage();
  storage.setItem("k", "{not json");
  assert.deepEqual(new core.History(storage, "k").state.entries, []);
  storage.setItem("k", JSON.stringify({ entries: [{ from: "bot", text: 5 }, { from: "x" }] }));
  assert.deepEqual(new core.History(storage, "k").state.entries, []);
  const broken = {
    getItem() {
      throw new Error("blocked");
    },
    setItem() {
      throw new Error("blocked");
    },
  };
  const history = new core.History(broken, "k");
  history.addUser("werkt toch");
  assert.equal(history.state.entries.length, 1);
});

test("votes are remembered per answer", () => {
  const storage = new MemoryStorage();
  const history = new core.History(storage, "k");
  const index = history.addBot(core.normaliseBotMessage({ text: "Antwoord", topic: "faq/kosten" }));
  history.setVote(index, "up");
  assert.equal(new core.History(storage, "k").state.entries[index].vote, "up");
});

test("feedback body matches the feedback endpoint", () => {
  assert.deepEqual(core.feedbackBody("sid", "faq/kosten", "up"), {
    session_id: "sid",
    topic: "faq/kosten",
    vote: "up",
  });
  assert.throws(() => core.feedbackBody("sid", "faq/kosten", "meh"));
});

test("strings: overrides replace known texts only", () => {
  const merged = core.mergeStrings({ a: "A", b: "B" }, { b: "Bee", c: "C", a: 5 });
  assert.deepEqual(merged, { a: "A", b: "Bee" });
  assert.equal(core.formatString("max {max} tekens {x}", { max: 1000 }), "max 1000 tekens {x}");
});

test("every text the widget uses is in the strings file, and every string is used", () => {
  const source = fs.readFileSync(path.join(REPO, "api/static/widget/pvo-chat.js"), "utf8");
  const strings = JSON.parse(
    fs.readFileSync(path.join(REPO, "templates/web/widget_strings.nl.json"), "utf8"),
  );
  const used = new Set([...source.matchAll(/\bS\.(\w+)/g)].map((match) => match[1]));
  for (const name of used) assert.ok(name in strings, `missing text: ${name}`);
  for (const name of Object.keys(strings)) assert.ok(used.has(name), `unused text: ${name}`);
  assert.equal(strings.launcher, "Stel uw vraag aan PVO");
});

test("message text is never written as html", () => {
  const source = fs.readFileSync(path.join(REPO, "api/static/widget/pvo-chat.js"), "utf8");
  assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(source));
});

test("a bot message repeating a sensitive answer is stored with it blanked out", () => {
  const storage = new MemoryStorage();
  const history = new core.History(storage, "k");
  history.addBot(core.normaliseBotMessage({ text: "Wat is uw e-mailadres?", sensitive_next: true }));
  history.addUser("Iemand@Example.nl");
  history.addBot(core.normaliseBotMessage({ text: "Klopt het dat iemand@example.nl uw adres is?" }));
  const stored = storage.getItem("k");
  assert.ok(!stored.toLowerCase().includes("iemand@example.nl"), stored);
  assert.equal(history.state.entries[2].text, "Klopt het dat … uw adres is?");
  // Regex characters in an answer are taken literally.
  assert.equal(core.blankOut("a (b) c+d", ["(b)", "c+d"]), "a … …");
  // "Nieuw gesprek" forgets them.
  history.clear();
  assert.deepEqual(history.secrets, []);
});

test("short sensitive answers are not blanked out of later messages", () => {
  const history = new core.History(new MemoryStorage(), "k");
  history.addBot(core.normaliseBotMessage({ text: "Mag ik uw naam bewaren?", sensitive_next: true }));
  history.addUser("ja");
  history.addBot(core.normaliseBotMessage({ text: "Dank u, ja dat is genoteerd." }));
  assert.equal(history.state.entries[2].text, "Dank u, ja dat is genoteerd.");
});

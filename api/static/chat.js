// The chat page: one conversation with the bot (POST /conversations, then its messages).
"use strict";
import { api, forget, setUpSignIn } from "/static/common.js";

const $ = (id) => document.getElementById(id);
let conversation = null;
let language = (navigator.language || "fr").toLowerCase().startsWith("en") ? "en" : "fr";

function add(kind, node) {
  const item = document.createElement("li");
  item.className = kind;
  item.append(node);
  $("log").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function show(reply) {
  if (reply.type === "table") {
    const table = document.createElement("table");
    const caption = table.createCaption();
    caption.textContent = reply.title;
    const head = table.createTHead().insertRow();
    for (const column of reply.columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = column;
      head.append(th);
    }
    const body = table.createTBody();
    for (const row of reply.rows) {
      const tr = body.insertRow();
      for (const cell of row) tr.insertCell().textContent = cell;
    }
    add("bot", table);
  } else {
    add(reply.type === "question" ? "bot question" : "bot", document.createTextNode(reply.text));
  }
}

async function start() {
  const started = await api("POST", "/conversations", { language });
  if (!started.ok) throw new Error(started.data?.detail || started.status);
  conversation = started.data.id;
}

async function send(text) {
  add("user", document.createTextNode(text));
  $("status").textContent = "…";
  let answer = await api("POST", `/conversations/${conversation}/messages`, { text });
  if (answer.status === 404) { // expired: a new conversation takes the line
    await start();
    answer = await api("POST", `/conversations/${conversation}/messages`, { text });
  }
  $("status").textContent = "";
  if (!answer.ok) {
    add("bot", document.createTextNode(answer.data?.detail || `Erreur ${answer.status}`));
    return;
  }
  language = answer.data.language;
  document.documentElement.lang = language;
  answer.data.replies.forEach(show);
  if (answer.data.ended) {
    $("status").textContent = language === "en" ? "Conversation over: type to start a new one." : "Conversation terminée : écrivez pour en commencer une autre.";
    await start();
  }
}

setUpSignIn({
  form: $("signin"),
  input: $("key"),
  error: $("signin-error"),
  onSignedIn: async () => {
    $("signin").hidden = true;
    $("chat").hidden = false;
    $("signout").hidden = false;
    await start();
    $("message").focus();
  },
});

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text) return;
  $("message").value = "";
  await send(text);
  $("message").focus();
});

$("signout").addEventListener("click", () => { forget(); location.reload(); });

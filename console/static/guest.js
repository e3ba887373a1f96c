// The guest tester page: send a question, show the bot's replies. Text only (textContent).
"use strict";

(function () {
  const main = document.getElementById("guest");
  const log = document.getElementById("log");
  const error = document.getElementById("error");
  const input = document.getElementById("text");
  const sender = main.dataset.sender;

  function line(who, text) {
    const item = document.createElement("li");
    item.className = who;
    item.textContent = text;
    log.appendChild(item);
  }

  document.getElementById("ask").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    error.textContent = "";
    line("user", text);
    input.value = "";
    try {
      const response = await fetch(window.location.pathname + "/message", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender_id: sender, text: text }),
      });
      const body = await response.json();
      if (!response.ok) {
        error.textContent = body.error || "Something went wrong.";
        return;
      }
      for (const reply of body.replies) {
        if (reply.text) line("bot", reply.text);
        for (const button of reply.buttons || []) line("bot option", button.title || "");
      }
    } catch (_) {
      error.textContent = "The assistant could not be reached. Try again soon.";
    }
  });
})();

/*
 * Opastin widget loader: mounts the rasa-webchat 1.0.1 widget (vendor/webchat.js, which defines
 * window.WebChat) with Opastin's settings. Load vendor/webchat.js first, then this file.
 *
 * Without any JavaScript of your own, mark an element:
 *   <div data-opastin-chat data-socket-url="https://opastin.example.fi"></div>
 * Optional attributes: data-title, data-subtitle, data-init-payload ("/greet"), data-language
 * (default: <html lang>), data-embedded ("true": a chat box filling the element; otherwise a
 * launcher button in the corner), data-storage ("session" default, or "local").
 * Or call window.OpastinWidget.mount(element, {socketUrl: ..., title: ..., ...}).
 *
 * Why a loader: the page language reaches the bot as metadata ({"language": "fi"} in
 * customData), the conversation survives a reload (session storage + our socket.io connector),
 * and links in bot replies are limited to http(s), mailto and tel. The widget renders replies
 * as Markdown with its link sanitising switched off, so without this guard a
 * "[text](javascript:...)" in a reply would become a live link.
 */
(function () {
  "use strict";

  var SAFE_PROTOCOLS = ["http:", "https:", "mailto:", "tel:"];

  // Widget texts for the page language; anything else falls back to English.
  var TEXTS = {
    en: {
      subtitle: "Who handles my matter?",
      hint: "Type your question...",
      connecting: "Connecting to the assistant...",
    },
    fi: {
      subtitle: "Kuka hoitaa asiani?",
      hint: "Kirjoita kysymyksesi...",
      connecting: "Yhdistetään avustajaan...",
    },
    sv: {
      subtitle: "Vem sköter mitt ärende?",
      hint: "Skriv din fråga...",
      connecting: "Ansluter till assistenten...",
    },
  };

  // Only absolute links with a safe scheme: a relative one in a bot reply would point into
  // whichever site embeds the widget. The raw attribute is checked, as the browser reads it.
  function isSafeLink(anchor) {
    var href = (anchor.getAttribute("href") || "").trim().toLowerCase();
    return SAFE_PROTOCOLS.some(function (scheme) {
      return href.indexOf(scheme) === 0;
    });
  }

  function disarm(anchor) {
    if (!isSafeLink(anchor)) {
      anchor.removeAttribute("href");
      anchor.setAttribute("data-opastin-blocked-link", "");
    }
  }

  function guardLinks(root) {
    function scan(node) {
      if (node.nodeType !== 1) return;
      if (node.matches("a[href]")) disarm(node);
      node.querySelectorAll("a[href]").forEach(disarm);
    }
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        if (mutation.type === "attributes") scan(mutation.target);
        mutation.addedNodes.forEach(scan);
      });
    }).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["href"] });
    // Second line of defence: a click on a link that is still unsafe does nothing.
    root.addEventListener(
      "click",
      function (event) {
        var anchor = event.target.closest && event.target.closest("a[href]");
        if (anchor && !isSafeLink(anchor)) {
          event.preventDefault();
          event.stopPropagation();
        }
      },
      true
    );
  }

  function pageLanguage(explicit) {
    var lang = (explicit || document.documentElement.lang || "en").toLowerCase();
    return lang.split("-")[0];
  }

  function mount(element, options) {
    if (!window.WebChat || typeof window.WebChat.default !== "function") {
      throw new Error("Opastin: load vendor/webchat.js before opastin-widget.js");
    }
    if (!options || !options.socketUrl) {
      throw new Error("Opastin: socketUrl is required (the Rasa server, e.g. https://opastin.example.fi)");
    }
    var language = pageLanguage(options.language);
    var texts = TEXTS[language] || TEXTS.en;
    element.classList.add("opastin-chat");
    element.setAttribute("lang", language);
    guardLinks(element);
    window.WebChat.default(
      {
        socketUrl: options.socketUrl,
        socketPath: options.socketPath || "/socket.io/",
        title: options.title || "Opastin",
        subtitle: options.subtitle === undefined ? texts.subtitle : options.subtitle,
        initPayload: options.initPayload || "/greet",
        customData: { language: language },
        inputTextFieldHint: texts.hint,
        connectingText: texts.connecting,
        embedded: options.embedded === true,
        showFullScreenButton: false,
        hideWhenNotConnected: false,
        withRules: false,
        params: { storage: options.storage === "local" ? "local" : "session" },
        // The widget waits 0.8-3 s per reply to mimic typing; answers here are long.
        customMessageDelay: function () {
          return 300;
        },
      },
      element
    );
  }

  function autoMount() {
    document.querySelectorAll("[data-opastin-chat]").forEach(function (element) {
      var data = element.dataset;
      mount(element, {
        socketUrl: data.socketUrl,
        socketPath: data.socketPath,
        title: data.title,
        subtitle: data.subtitle,
        initPayload: data.initPayload,
        language: data.language,
        embedded: data.embedded === "true",
        storage: data.storage,
      });
    });
  }

  window.OpastinWidget = { mount: mount };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", autoMount);
  } else {
    autoMount();
  }
})();

/*
 * Opastin widget loader: mounts the rasa-webchat 1.0.1 widget (vendor/webchat.js, which defines
 * window.WebChat) with Opastin's settings. Load vendor/webchat.js first, then this file; keep
 * opastin-texts.json (the widget's words in each language) next to this file.
 *
 * Without any JavaScript of your own, mark an element:
 *   <div data-opastin-chat data-socket-url="https://opastin.example.fi"></div>
 * Optional attributes: data-title, data-subtitle, data-init-payload ("/greet"), data-language
 * (default: <html lang>), data-embedded ("true": a chat box filling the element; otherwise a
 * launcher button in the corner), data-storage ("session" default, or "local"), data-texts-url
 * (default: opastin-texts.json beside this file).
 * Or call window.OpastinWidget.mount(element, {socketUrl: ..., title: ..., ...}); it returns a
 * promise that settles once the widget is mounted.
 *
 * Why a loader: the page language reaches the bot as metadata ({"language": "fi"} in
 * customData), the widget speaks and is laid out in that language (right to left for Arabic and
 * Persian, from the texts file), the conversation survives a reload (session storage + our
 * socket.io connector), and links in bot replies are limited to http(s), mailto and tel. The
 * widget renders replies as Markdown with its link sanitising switched off, so without this
 * guard a "[text](javascript:...)" in a reply would become a live link.
 */
(function () {
  "use strict";

  var SAFE_PROTOCOLS = ["http:", "https:", "mailto:", "tel:"];
  var FALLBACK_LANGUAGE = "en";
  // Where this file was loaded from: the texts file is looked for beside it.
  var SCRIPT_URL = (document.currentScript && document.currentScript.src) || window.location.href;
  var textsByUrl = {};

  // All languages' texts ({"fi": {"hint": ..., "dir": "ltr", ...}, ...}), fetched once per URL.
  // Without them the widget still works, with its own English words.
  function loadTexts(url) {
    if (!textsByUrl[url]) {
      textsByUrl[url] = fetch(url, { credentials: "omit" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .catch(function (error) {
          console.warn("Opastin: no widget texts from " + url + " (" + error.message + ")");
          return {};
        });
    }
    return textsByUrl[url];
  }

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

  // Names the send button and the message field in the page language (the button is an icon);
  // re-applied when the widget re-renders its form.
  function labelControls(root, texts) {
    function label(node, text, tooltip) {
      if (node && text && node.getAttribute("aria-label") !== text) {
        node.setAttribute("aria-label", text);
        if (tooltip) node.setAttribute("title", text);
      }
    }
    function apply() {
      label(root.querySelector(".rw-send"), texts.send, true);
      label(root.querySelector(".rw-new-message"), texts.hint, false);
    }
    new MutationObserver(apply).observe(root, { childList: true, subtree: true });
    apply();
  }

  // The server refuses a message that comes too soon after many others (its rate limit) with a
  // `rate_limited` event instead of an answer; without a word the person would wait for a reply
  // that never comes. A polite line says how long to wait; it goes away when the wait is over.
  function showSlowDown(element, texts, data) {
    var seconds = Math.max(1, Math.ceil(Number(data && data.retry_after) || 1));
    var template = texts.slow_down || "Too many messages in a short time. Please wait {seconds} s and send again.";
    var notice = element.querySelector(".opastin-notice");
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "opastin-notice";
      notice.setAttribute("role", "status");
      notice.setAttribute("aria-live", "polite");
      element.appendChild(notice);
    }
    notice.textContent = template.replace("{seconds}", String(seconds));
    notice.hidden = false;
    clearTimeout(notice.opastinTimer);
    notice.opastinTimer = setTimeout(function () {
      notice.hidden = true;
    }, seconds * 1000);
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
    var textsUrl = new URL(options.textsUrl || "opastin-texts.json", SCRIPT_URL).href;
    return loadTexts(textsUrl).then(function (all) {
      var own = all[language];
      // The writing direction only from the language's own entry: a language the file lacks
      // keeps the page's direction, even though its words fall back to English.
      if (own && own.dir) element.setAttribute("dir", own.dir);
      start(element, options, language, own || all[FALLBACK_LANGUAGE] || {});
    });
  }

  function start(element, options, language, texts) {
    element.classList.add("opastin-chat");
    element.setAttribute("lang", language);
    guardLinks(element);
    labelControls(element, texts);
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
        onSocketEvent: {
          rate_limited: function (data) {
            showSlowDown(element, texts, data);
          },
        },
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
        textsUrl: data.textsUrl,
      }).catch(function (error) {
        console.error(error);
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

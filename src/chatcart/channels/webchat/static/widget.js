/* chatcart website chat widget.
 * Embed: <script src="https://YOUR-CHATCART/widget.js" data-chatcart-key="wk_..." defer></script>
 * Talks to the server over one WebSocket. Messages the visitor typed are kept in
 * localStorage until the server acknowledges them, and resent with the same id after a
 * reconnect, so a restart neither loses nor duplicates them. Replies are matched by id.
 */
(function () {
  "use strict";
  if (window.ChatCart && window.ChatCart._loaded) return;

  var script =
    document.currentScript || document.querySelector("script[data-chatcart-key]");
  if (!script) return;
  var KEY = script.getAttribute("data-chatcart-key");
  if (!KEY) {
    console.error("chatcart: the script tag needs a data-chatcart-key attribute");
    return;
  }
  var ORIGIN = new URL(script.src, location.href).origin;
  var WS_URL = ORIGIN.replace(/^http/, "ws") + "/widget/ws?key=" + encodeURIComponent(KEY);
  var STORE = "chatcart:" + KEY + ":";
  var lang = (script.getAttribute("data-locale") || navigator.language || "vi")
    .slice(0, 2)
    .toLowerCase();
  var T = {
    vi: {
      title: "Chat với shop",
      placeholder: "Nhập tin nhắn…",
      send: "Gửi",
      open: "Mở chat",
      close: "Đóng",
      offline: "Đang kết nối lại…",
      failed: "Không gửi được",
      typing: "Shop đang trả lời…",
    },
    en: {
      title: "Chat with us",
      placeholder: "Type a message…",
      send: "Send",
      open: "Open chat",
      close: "Close",
      offline: "Reconnecting…",
      failed: "Not sent",
      typing: "The shop is typing…",
    },
  };
  var t = T[lang] || T.en;

  function load(name, fallback) {
    try {
      var raw = localStorage.getItem(STORE + name);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function save(name, value) {
    try {
      localStorage.setItem(STORE + name, JSON.stringify(value));
    } catch (e) {
      /* private mode: the conversation lasts for this page only */
    }
  }
  function newId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  // ---- UI (inside a shadow root, so the host page's CSS cannot break it) ----
  var host = document.createElement("div");
  host.id = "chatcart-widget";
  host.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".bubble{width:56px;height:56px;border-radius:50%;border:0;background:#e4572e;color:#fff;display:inline-flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".panel{display:none;flex-direction:column;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 100px);background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;margin-bottom:12px}" +
    ".panel.open{display:flex}" +
    ".head{background:#e4572e;color:#fff;padding:12px 14px;display:flex;justify-content:space-between;align-items:center;font-weight:600}" +
    ".head button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}" +
    ".status{font-size:12px;background:#fff3cd;color:#6b5300;padding:4px 10px;display:none}" +
    ".status.show{display:block}" +
    ".log{flex:1;overflow-y:auto;padding:12px;background:#faf7f5;display:flex;flex-direction:column;gap:6px}" +
    ".msg{max-width:80%;padding:8px 11px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word;font-size:14px;line-height:1.35}" +
    ".msg.in{align-self:flex-end;background:#e4572e;color:#fff;border-bottom-right-radius:4px}" +
    ".msg.out{align-self:flex-start;background:#fff;color:#222;border:1px solid #eee;border-bottom-left-radius:4px}" +
    ".msg.pending{opacity:.6}.msg.error{background:#b00020}" +
    ".msg .err{display:block;font-size:11px;margin-top:3px}" +
    ".typing{align-self:flex-start;font-size:12px;color:#777;display:none}.typing.show{display:block}" +
    ".chips{display:flex;flex-wrap:wrap;gap:6px;padding:6px 12px;background:#faf7f5}" +
    ".chips button,.msg .btn{border:1px solid #e4572e;background:#fff;color:#e4572e;border-radius:16px;padding:5px 11px;font-size:13px;cursor:pointer}" +
    ".msg .btn{display:block;margin-top:6px;width:100%;text-align:center;text-decoration:none}" +
    ".cards{display:flex;gap:8px;overflow-x:auto;margin-top:6px;white-space:normal}" +
    ".card{flex:0 0 150px;border:1px solid #eee;border-radius:10px;padding:6px;background:#fff}" +
    ".card img{display:block;width:100%;height:110px;object-fit:cover;border-radius:6px}" +
    ".card .ct{font-weight:600;margin-top:4px}.card .cs{font-size:12px;color:#666}" +
    "form{display:flex;border-top:1px solid #eee}" +
    "textarea{flex:1;border:0;padding:10px;font-size:14px;resize:none;height:44px;outline:none}" +
    "form button{border:0;background:#fff;color:#e4572e;font-weight:600;padding:0 14px;cursor:pointer}" +
    "</style>" +
    '<div class="panel" part="panel" role="dialog">' +
    '<div class="head"><span class="title"></span><button type="button" class="close">×</button></div>' +
    '<div class="status" role="status"></div>' +
    '<div class="log" aria-live="polite"></div>' +
    '<div class="chips"></div>' +
    '<form><textarea rows="1"></textarea><button type="submit" class="send"></button></form>' +
    "</div>" +
    '<div style="text-align:right"><button type="button" class="bubble">' +
    '<svg width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg>' +
    '</button></div>';
  var $ = function (sel) {
    return root.querySelector(sel);
  };
  var panel = $(".panel"),
    log = $(".log"),
    chips = $(".chips"),
    status = $(".status"),
    input = $("textarea"),
    form = $("form");
  $(".title").textContent = t.title;
  $(".send").textContent = t.send;
  $(".bubble").setAttribute("aria-label", t.open);
  $(".close").setAttribute("aria-label", t.close);
  input.placeholder = t.placeholder;
  var typingEl = document.createElement("div");
  typingEl.className = "typing";
  typingEl.textContent = t.typing;

  // ---- state ----
  var rendered = {}; // "id:N" or "c:CLIENT_ID" -> element
  var pending = load("pending", []); // [{client_id, text, payload}] not yet acknowledged
  var token = load("token", null);
  var ws = null,
    connected = false,
    attempts = 0,
    typingTimer = null,
    lastTypingSent = 0;

  function scroll() {
    log.appendChild(typingEl);
    log.scrollTop = log.scrollHeight;
  }
  function setTyping(on) {
    typingEl.classList.toggle("show", !!on);
    clearTimeout(typingTimer);
    if (on)
      typingTimer = setTimeout(function () {
        typingEl.classList.remove("show");
      }, 20000);
    scroll();
  }
  function showChips(list) {
    chips.innerHTML = "";
    (list || []).forEach(function (q) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = q.title;
      b.onclick = function () {
        send(q.title, q.payload);
      };
      chips.appendChild(b);
    });
  }
  function button(b) {
    var a = document.createElement(b.url ? "a" : "button");
    a.className = "btn";
    a.textContent = b.title;
    if (b.url) {
      a.href = b.url;
      a.target = "_blank";
      a.rel = "noopener";
    } else
      a.onclick = function () {
        send(b.title, b.payload);
      };
    return a;
  }
  function render(m) {
    var key = m.id != null ? "id:" + m.id : null;
    var ckey = m.client_id ? "c:" + m.client_id : null;
    var el = (key && rendered[key]) || (ckey && rendered[ckey]);
    if (!el) {
      el = document.createElement("div");
      log.appendChild(el);
    }
    if (key) rendered[key] = el;
    if (ckey) rendered[ckey] = el;
    el.className = "msg " + (m.direction === "in" ? "in" : "out");
    el.textContent = m.text || "";
    el.setAttribute("data-direction", m.direction);
    if (m.id != null) el.setAttribute("data-id", m.id);
    (m.buttons || []).forEach(function (b) {
      el.appendChild(button(b));
    });
    if (m.cards && m.cards.length) {
      // A carousel: each card with its picture, title, subtitle and buttons.
      var row = document.createElement("div");
      row.className = "cards";
      m.cards.forEach(function (c) {
        var card = document.createElement("div");
        card.className = "card";
        if (c.image_url) {
          var pic = document.createElement("img");
          pic.src = c.image_url;
          pic.alt = "";
          card.appendChild(pic);
        }
        var title = document.createElement(c.url ? "a" : "div");
        title.className = "ct";
        title.textContent = c.title;
        if (c.url) {
          title.href = c.url;
          title.target = "_blank";
          title.rel = "noopener";
        }
        card.appendChild(title);
        if (c.subtitle) {
          var sub = document.createElement("div");
          sub.className = "cs";
          sub.textContent = c.subtitle;
          card.appendChild(sub);
        }
        (c.buttons || []).forEach(function (b) {
          card.appendChild(button(b));
        });
        row.appendChild(card);
      });
      el.appendChild(row);
    }
    (m.attachments || []).forEach(function (att) {
      if (att.kind === "image" && att.url) {
        var img = document.createElement("img");
        img.src = att.url;
        img.alt = att.name || "";
        img.style.cssText = "display:block;max-width:100%;border-radius:8px;margin-top:6px";
        el.appendChild(img);
      }
    });
    if (m.direction === "out") showChips(m.quick_replies);
    scroll();
    return el;
  }
  function markPending(clientId, state, message) {
    var el = rendered["c:" + clientId];
    if (!el) return;
    el.classList.toggle("pending", state === "pending");
    el.classList.toggle("error", state === "error");
    if (state === "error") {
      var s = document.createElement("span");
      s.className = "err";
      s.textContent = t.failed + (message ? ": " + message : "");
      el.appendChild(s);
    }
  }
  function setOnline(on) {
    connected = on;
    status.textContent = t.offline;
    status.classList.toggle("show", !on);
  }

  // ---- socket ----
  function frame(obj) {
    if (ws && connected) ws.send(JSON.stringify(obj));
  }
  function connect() {
    ws = new WebSocket(WS_URL);
    ws.onopen = function () {
      ws.send(
        JSON.stringify({ type: "hello", token: token, page_url: location.href, locale: lang })
      );
    };
    ws.onmessage = function (ev) {
      var f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f.type === "welcome") {
        token = f.token;
        save("token", token);
        attempts = 0;
        setOnline(true);
      } else if (f.type === "history") {
        f.messages.forEach(render);
        pending.forEach(function (p) {
          render({ client_id: p.client_id, direction: "in", text: p.text });
          markPending(p.client_id, "pending");
          frame({ type: "message", client_id: p.client_id, text: p.text, payload: p.payload });
        });
      } else if (f.type === "message") {
        render(f.message);
      } else if (f.type === "ack") {
        pending = pending.filter(function (p) {
          return p.client_id !== f.client_id;
        });
        save("pending", pending);
        markPending(f.client_id, "sent");
      } else if (f.type === "typing") {
        setTyping(f.on);
      } else if (f.type === "error") {
        if (f.client_id) {
          pending = pending.filter(function (p) {
            return p.client_id !== f.client_id;
          });
          save("pending", pending);
          markPending(f.client_id, "error", f.message);
        } else console.warn("chatcart:", f.code, f.message);
      }
    };
    ws.onclose = function (ev) {
      setOnline(false);
      if (ev.code === 4404) {
        console.error("chatcart: unknown widget key " + KEY);
        return;
      }
      attempts += 1;
      var delay = Math.min(10000, 500 * Math.pow(2, attempts - 1)) * (0.7 + Math.random() * 0.6);
      setTimeout(connect, delay);
    };
  }

  function send(text, payload) {
    text = (text || "").normalize("NFC").trim();
    if (!text) return;
    var p = { client_id: newId(), text: text, payload: payload || null };
    pending.push(p);
    save("pending", pending);
    render({ client_id: p.client_id, direction: "in", text: text });
    markPending(p.client_id, "pending");
    showChips([]);
    frame({ type: "message", client_id: p.client_id, text: p.text, payload: p.payload });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    send(input.value);
    input.value = "";
    frame({ type: "typing", on: false });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - lastTypingSent > 3000) {
      lastTypingSent = now;
      frame({ type: "typing", on: true });
    }
  });
  function open() {
    panel.classList.add("open");
    save("open", true);
    input.focus();
  }
  function close() {
    panel.classList.remove("open");
    save("open", false);
  }
  $(".bubble").onclick = function () {
    if (panel.classList.contains("open")) close();
    else open();
  };
  $(".close").onclick = close;

  function start() {
    document.body.appendChild(host);
    if (load("open", false)) panel.classList.add("open");
    setOnline(false);
    connect();
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);

  window.ChatCart = { _loaded: true, open: open, close: close, send: send };
})();

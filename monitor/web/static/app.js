// picostate's dashboard: one WebSocket to the monitor (monitor/web/server.py), which pushes what changed;
// the page draws cards, a log and a timeline from it, and sends the requests the buttons make.
// Everything that came from the network is put in the page as text (textContent), never as markup.
"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const LOG_SHOWN = 300;
  const FINDING_WORDS = { lost: "lost", duplicate: "dup", reordered: "reord", reboot: "reboot", reconnect: "reconn",
    dropped_on_device: "dropped", inconsistent: "incons", unacked: "unacked", silent: "silent", malformed: "malf",
    unseen: "unseen", clock_step: "clock", untracked: "untracked", broker_dropped: "brk-drop" };
  const COMMANDS = [["led-on", "LED on", { led: "on" }], ["led-off", "LED off", { led: "off" }],
    ["led-auto", "LED auto", { led: "auto" }], ["mode-slow", "slow", { mode: "slow" }],
    ["mode-fast", "fast", { mode: "fast" }], ["get", "get", { get: true }]];

  const $ = (id) => document.getElementById(id);
  const page = { cards: new Map(), order: [], selected: null, offsetMs: 0, req: 0, results: new Map(),
    view: { filter: "", findings_only: false, page: 0 }, counts: null,
    timeline: { device: null, points: [], span: 300, kept: 300 } };
  let ws = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const serverNow = () => (Date.now() + page.offsetMs) / 1000;
  function clock(t) {
    if (typeof t !== "number") return "--:--:--";
    const d = new Date(t * 1000);
    return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0").slice(0, 1);
  }
  function age(t) {
    if (typeof t !== "number") return "-";
    const s = Math.max(0, serverNow() - t);
    return s < 60 ? s.toFixed(1) + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago";
  }
  function notice(text) {
    const n = $("notice");
    n.textContent = text;
    n.hidden = !text;
    clearTimeout(notice.timer);
    if (text) notice.timer = setTimeout(() => { n.hidden = true; }, 8000);
  }

  // --- the connection ---------------------------------------------------------------------------------

  function send(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN) { notice("not connected to the monitor"); return false; }
    ws.send(JSON.stringify(obj));
    return true;
  }
  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = () => {
      $("conn").textContent = "live";
      $("conn").className = "conn up";
      page.cards.clear(); page.order = []; page.timeline.device = null;
      $("log").replaceChildren();
      sendView();
      if (page.selected) send({ op: "select", device: page.selected });
    };
    ws.onclose = () => {
      $("conn").textContent = "monitor gone: reconnecting…";
      $("conn").className = "conn down";
      setTimeout(connect, 1000);
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (typeof msg.now === "number") page.offsetMs = msg.now * 1000 - Date.now();
      if (msg.type === "update") update(msg);
      else if (msg.type === "sent" || msg.type === "ack") result(msg);
      else if (msg.type === "error") notice("the monitor refused: " + msg.text);
    };
  }
  function sendView() { send({ op: "view", filter: page.view.filter, findings_only: page.view.findings_only, page: page.view.page }); }

  // --- updates ------------------------------------------------------------------------------------------

  function update(msg) {
    if (msg.status) status(msg.status);
    if (msg.cards) for (const c of msg.cards) page.cards.set(c.device, c);
    if (msg.order) {
      page.order = msg.order;
      for (const name of [...page.cards.keys()]) if (!msg.order.includes(name)) page.cards.delete(name);
    }
    if (msg.counts) { page.counts = msg.counts; pages(); }
    if ("selected" in msg) page.selected = msg.selected;
    if (msg.order || msg.cards || "selected" in msg) drawCards(msg.order ? null : (msg.cards || []).map((c) => c.device));
    if (msg.log) log(msg.log, msg.skipped || 0);
    if (msg.timeline) {
      const tl = page.timeline;
      if (msg.timeline.reset || tl.device !== msg.timeline.device) tl.points = [];
      tl.device = msg.timeline.device;
      tl.kept = msg.timeline.span_s || 300;
      tl.points.push(...msg.timeline.points);
      drawTimeline();
    }
  }
  function status(s) {
    $("broker").textContent = s.broker || "";
    $("tally").textContent = "findings: " + (s.findings || "none");
    $("tally").className = s.findings && s.findings !== "none" ? "bad" : "";
    $("recording").textContent = `recording ${s.recording} (${s.messages} messages, ${s.devices} devices)`;
    if (s.failure) notice(s.failure);
  }
  function pages() {
    const c = page.counts;
    page.view.page = c.page;
    $("pages").textContent = c.total === 0 ? "no devices yet" :
      `page ${c.page + 1} of ${c.pages}: ${c.matching} of ${c.total} device${c.total === 1 ? "" : "s"}`;
    $("prev").disabled = c.page <= 0;
    $("next").disabled = c.page >= c.pages - 1;
  }

  // --- cards --------------------------------------------------------------------------------------------

  function makeCard(name) {
    const card = el("article", "card");
    card.dataset.device = name;
    const head = el("header");
    head.append(el("span", "name", name), el("span", "badge online-word", "?"));
    const st = el("div", "state");
    const led = el("span", "led unknown");
    led.title = "the LED (GP15)";
    const words = el("span", "led-words");
    const buttons = el("span", "buttons");
    buttons.append(el("span", "btn btn-a", "A"), document.createTextNode(" "), el("span", "btn btn-b", "B"));
    st.append(led, words, buttons);
    const facts = el("dl", "facts");
    for (const [key, label] of [["presses", "presses"], ["temp", "temp"], ["boot", "boot/sess"], ["ver", "ver"],
      ["seen", "seen"], ["msgs", "msgs"]]) {
      facts.append(el("dt", null, label), el("dd", "f-" + key, "-"));
    }
    const controls = el("div", "controls");
    for (const [cmd, label, fields] of COMMANDS) {
      const b = el("button", null, label);
      b.type = "button";
      b.dataset.cmd = cmd;
      b.addEventListener("click", (ev) => { ev.stopPropagation(); command(name, fields); });
      controls.append(b);
    }
    card.append(head, st, facts, el("div", "findings"), controls, el("div", "result"));
    card.addEventListener("click", () => select(name));
    return card;
  }
  function fill(card, c) {
    const on = card.querySelector(".online-word");
    on.textContent = c.online;
    on.className = "badge online-word " + (c.online === "online" ? "online" : c.online === "offline" ? "offline" : "");
    const led = card.querySelector(".led");
    led.className = "led " + (c.lit === 1 ? "lit" : c.lit === 0 ? "dark" : "unknown");
    led.title = `LED ${c.lit === 1 ? "lit" : c.lit === 0 ? "dark" : "not known"} (policy ${c.led || "?"})`;
    card.querySelector(".led-words").textContent = `${c.led || "?"} · ${c.mode || "?"}`;
    for (const k of ["a", "b"]) {
      const b = card.querySelector(".btn-" + k);
      b.classList.toggle("held", c.buttons[k] === true);
      b.title = `button ${k.toUpperCase()} ${c.buttons[k] === true ? "held" : c.buttons[k] === false ? "up" : "?"}`;
    }
    const p = c.presses;
    card.querySelector(".f-presses").textContent = `a ${p.a ?? "?"} · b ${p.b ?? "?"}`;
    card.querySelector(".f-temp").textContent = typeof c.temp_c === "number" ? c.temp_c.toFixed(1) + " °C" : "-";
    card.querySelector(".f-boot").textContent = `${c.boot || "-"}/${c.sess ?? "-"}`;
    card.querySelector(".f-ver").textContent = c.ver ?? "-";
    card.querySelector(".f-msgs").textContent = c.messages;
    card.querySelector(".f-seen").textContent = age(c.last_seen);
    const found = card.querySelector(".findings");
    found.replaceChildren();
    for (const [kind, [n, errors]] of Object.entries(c.findings)) {
      const chip = el("span", "chip " + (errors ? "error" : "note"), `${FINDING_WORDS[kind] || kind} ${n}`);
      chip.dataset.kind = kind;
      found.append(chip);
    }
    if (!found.children.length) found.append(el("span", "chip none", "no findings"));
    card.classList.toggle("has-errors", c.errors > 0);
    card.classList.toggle("selected", c.device === page.selected);
    const r = page.results.get(c.device);
    const res = card.querySelector(".result");
    res.textContent = r ? r.text : "";
    res.className = "result" + (r ? (r.type === "sent" ? "" : r.ok ? " ok" : " bad") : "");
    for (const b of card.querySelectorAll(".controls button")) b.disabled = !!(r && r.type === "sent");
  }
  function cardOf(name) { return document.querySelector(`.card[data-device="${CSS.escape(name)}"]`); }
  function drawCards(only) {
    const box = $("cards");
    if (only === null) {
      const kept = new Map([...box.querySelectorAll(".card")].map((c) => [c.dataset.device, c]));
      const list = page.order.map((n) => kept.get(n) || makeCard(n));
      box.replaceChildren(...list);
      if (!list.length) box.append(el("p", null, page.counts && page.counts.total ? "No device matches." : "Waiting for a device to speak…"));
      only = page.order;
    }
    for (const name of page.order) {
      const card = cardOf(name);
      if (!card) continue;
      card.classList.toggle("selected", name === page.selected);
      if (only.includes(name) && page.cards.has(name)) fill(card, page.cards.get(name));
    }
    $("timeline-device").textContent = page.selected || "";
  }
  function select(name) {
    if (name === page.selected) return;
    page.selected = name;
    send({ op: "select", device: name });
    drawCards([]);
  }
  function command(device, fields) {
    const req = ++page.req;
    if (send({ op: "command", req, device, ...fields })) {
      page.results.set(device, { type: "sent", text: "sending…" });
      const card = cardOf(device);
      if (card && page.cards.has(device)) fill(card, page.cards.get(device));
    }
  }
  function result(msg) {
    page.results.set(msg.device, msg);
    const card = cardOf(msg.device);
    if (card && page.cards.has(msg.device)) fill(card, page.cards.get(msg.device));
  }

  // --- the log ------------------------------------------------------------------------------------------

  function log(entries, skipped) {
    const list = $("log");
    const frag = document.createDocumentFragment();
    for (const e of entries.slice().reverse()) {
      const li = el("li", e.level);
      li.dataset.kind = e.kind;
      li.append(el("span", "t", clock(e.t)), " ", el("span", "dev", e.device || "-"), " ",
        el("span", "kind", e.kind), " ", el("span", "text", e.text));
      frag.append(li);
    }
    list.prepend(frag);
    while (list.children.length > LOG_SHOWN) list.lastChild.remove();
    if (skipped) $("log-skipped").textContent = `(${skipped} lines skipped to keep up)`;
  }

  // --- the timeline -------------------------------------------------------------------------------------

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function drawTimeline() {
    const box = $("timeline");
    const W = Math.max(300, box.clientWidth || 600), LEFT = 58, RIGHT = 8;
    box.setAttribute("viewBox", `0 0 ${W} 190`);
    const tl = page.timeline;
    const now = serverNow(), from = now - tl.span;
    const x = (t) => LEFT + ((t - from) / tl.span) * (W - LEFT - RIGHT);
    const stepY = (s) => 95 - Math.max(-2, Math.min(4, s)) * 14;   // step 1 on its line; gaps above, repeats below
    const nodes = [];
    nodes.push(svg("text", { x: 4, y: 14, class: "lane" }, "seq step"));
    for (const s of [4, 1, 0, -2]) {
      nodes.push(svg("line", { x1: LEFT, x2: W - RIGHT, y1: stepY(s), y2: stepY(s), class: "grid" }));
      nodes.push(svg("text", { x: LEFT - 6, y: stepY(s) + 3, class: "lane", "text-anchor": "end" }, s === 4 ? "≥4" : String(s)));
    }
    nodes.push(svg("text", { x: 4, y: 143, class: "lane" }, "presses"));
    nodes.push(svg("line", { x1: LEFT, x2: W - RIGHT, y1: 140, y2: 140, class: "grid" }));
    nodes.push(svg("text", { x: 4, y: 167, class: "lane" }, "findings"));
    nodes.push(svg("line", { x1: LEFT, x2: W - RIGHT, y1: 167, y2: 167, class: "grid" }));
    const tick = tl.span > 120 ? 60 : tl.span > 40 ? 10 : 5;
    for (let m = 0; m <= tl.span; m += tick) {
      const label = m === 0 ? "now" : tick === 60 ? `-${m / 60} min` : `-${m} s`;
      nodes.push(svg("text", { x: x(now - m), y: 186, class: "lane", "text-anchor": m === 0 ? "end" : "middle" }, label));
    }
    tl.points = tl.points.filter((p) => typeof p.t === "number" && p.t >= now - tl.kept - 5);
    for (const p of tl.points) {
      if (p.t < from) continue;
      const px = x(p.t);
      if (p.lane === "seq") {
        let g;
        if (p.step === null) g = svg("path", { d: `M${px} ${stepY(1) - 6}l5 6l-5 6l-5 -6z`, class: "step boot" });
        else {
          const cls = p.step === 1 ? "step1" : p.step > 1 ? "gap" : p.step === 0 ? "dup" : "reorder";
          g = svg("circle", { cx: px, cy: stepY(p.step), r: p.step === 1 ? 2.2 : 4, class: "step " + cls });
        }
        g.append(svg("title", {}, `${clock(p.t)} ${p.kind} seq ${p.seq}` + (p.step === null ? " (a new boot)" : `, step ${p.step}`)));
        nodes.push(g);
      } else if (p.lane === "press") {
        const g = svg("text", { x: px, y: 144, class: "press", "text-anchor": "middle" }, p.button.toUpperCase());
        g.append(svg("title", {}, `${clock(p.t)} button ${p.button} pressed (${p.presses} presses)`));
        nodes.push(g);
      } else {
        const g = svg("path", { d: `M${px - 6} 157h12l-6 10z`, class: "finding " + (p.error ? "error" : "note") });
        g.dataset.kind = p.kind;
        g.append(svg("title", {}, `${clock(p.t)} ${p.kind}: ${p.text}`));
        nodes.push(g);
      }
    }
    box.replaceChildren(...nodes);
  }

  // --- the controls -------------------------------------------------------------------------------------

  function start() {
    let typing = null;
    $("filter").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { page.view.filter = $("filter").value; page.view.page = 0; sendView(); }, 200);
    });
    $("findings-only").addEventListener("change", () => { page.view.findings_only = $("findings-only").checked; page.view.page = 0; sendView(); });
    $("prev").addEventListener("click", () => { page.view.page = Math.max(0, page.view.page - 1); sendView(); });
    $("next").addEventListener("click", () => { page.view.page += 1; sendView(); });
    for (const b of document.querySelectorAll("#spans button")) {
      b.addEventListener("click", () => {
        page.timeline.span = Number(b.dataset.span);
        for (const o of document.querySelectorAll("#spans button")) o.classList.toggle("on", o === b);
        drawTimeline();
      });
    }
    setInterval(() => {
      for (const name of page.order) {
        const card = cardOf(name), c = page.cards.get(name);
        if (card && c) card.querySelector(".f-seen").textContent = age(c.last_seen);
      }
      drawTimeline();
    }, 1000);
    drawTimeline();
    connect();
  }
  // For a person at the console, and the tests: send a request as the page would.
  window.picostate = { send, raw: (text) => ws && ws.send(text), counts: () => page.counts };
  start();
})();

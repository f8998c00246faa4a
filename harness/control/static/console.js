// The incident room: every team event goes to the control API with the token as a bearer
// header; the journal and the SLO come back over one Server-Sent Events stream.
"use strict";

// What each choice does, shown where it is chosen: mechanics only, never which one is right.
const ACTION_HELP = {
  "restart": "Restart whole nodes one after the other (a rolling restart). Canary: that node only.",
  "isolate": "Take nodes out of the load balancer (weight 0); they keep running for inspection. Canary: the node to isolate (or params nodes=web-1,web-2).",
  "restore": "Put isolated nodes back into the load balancer (weight 1, or params weight=N). Canary: that node only.",
  "rollback-release": "Deploy the previous release again. Canary: that node first, the others keep theirs.",
  "rollback-config": "Push the previous config again. Canary: that node first, the others keep theirs.",
  "rollback-script": "Put the previous per-request script back. Canary: that node first, the others keep theirs.",
  "pause-rollout": "Stop the staged rollouts still baking (params kind=config|script|release to pick one). No canary: it acts on the control plane's rollouts, not on a node.",
  "kill-hung-workers": "Kill workers spinning at high CPU; their master starts fresh ones. Canary: that node only.",
  "flag-on": "Turn a feature flag on, node by node (params flag=NAME; default serve_cached_stock: stock from the cache). Canary: that node only.",
  "flag-off": "Turn a feature flag off again (params flag=NAME). Canary: that node only.",
};
const ROLE_HELP = {
  commander: "Coordinates: decides, delegates, keeps one plan; leaves the typing to others.",
  comms: "Writes the status updates, and posts the next one when promised.",
  scribe: "Keeps the record: notes, suspects, what was tried and when.",
  ops: "Runs the actions the commander asks for, one node first.",
};
const SEVERITY_HELP = {
  1: "SEV1: at least half of the requests failing (or a fifth for 10 minutes); first update within 5 min, then every 20.",
  2: "SEV2: at least 10% failing; first update within 10 min, then every 30.",
  3: "SEV3: at least 1% failing; first update within 30 min, then every 60.",
  4: "SEV4: less; first update within 60 min.",
};
const PHASES = [
  ["detect", "alert.fired"], ["acknowledge", "team.ack"], ["declare", "team.declare"],
  ["first_update", "team.update"], ["mitigate", "restoration.detected"], ["resolve", "team.resolve"],
];
const TARGET_OF = { detect: "detect_s", acknowledge: "ack_s", declare: "declare_s",
                    first_update: "first_update_s", mitigate: "mitigate_s", resolve: "resolve_s" };

const state = {
  token: null, me: null, meta: null, lastSeq: 0, over: false,
  firing: new Map(), faults: new Map(), targets: {}, faultAt: null, reached: {}, now: 0,
  windows: [], chartPending: false,
  incident: { severity: null, commander: null, declaredAt: null, roles: {}, status: null, ackBy: null, ackAt: null },
};

const $ = (id) => document.getElementById(id);

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function toast(message, isError = false) {
  const box = $("toast");
  box.textContent = message;
  box.className = isError ? "toast error" : "toast";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 3000);
}

// ---- the token and the name -------------------------------------------------------------

function takeToken() {
  const key = `gamedrill.token.${location.port}`;
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    sessionStorage.setItem(key, fromHash);
    history.replaceState(null, "", location.pathname + location.search); // off the address bar
  }
  return sessionStorage.getItem(key);
}

function askName() {
  const dialog = $("whoami");
  $("whoami-name").value = localStorage.getItem("gamedrill.name") || "";
  return new Promise((resolve) => {
    $("f-whoami").onsubmit = () => {
      const name = $("whoami-name").value.trim();
      if (!name) return false;
      localStorage.setItem("gamedrill.name", name);
      resolve(name);
      return true;
    };
    dialog.showModal();
  });
}

function setMe(name) {
  state.me = name;
  $("me").textContent = name;
  if (!$("declare-commander").value) $("declare-commander").value = name;
}

// ---- the control API --------------------------------------------------------------------

async function api(path, body) {
  const init = { headers: { Authorization: `Bearer ${state.token}` } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error((parsed && parsed.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return parsed;
}

function formBody(kind, form) {
  const value = (name) => form.elements[name].value.trim();
  switch (kind) {
    case "ack": case "resolve": return {};
    case "declare": return { severity: Number(value("severity")), commander: value("commander") };
    case "role": return { role: value("role"), who: value("who") };
    case "update": {
      const minutes = Number(value("next_update_min"));
      const body = { impact: value("impact"), action: value("action") };
      if (minutes > 0) body.next_update_s = Math.round(minutes * 60);
      if (value("status")) body.status = value("status");
      return body;
    }
    case "note": return { text: value("text") };
    case "suspect": return { change: value("change") };
    case "scope": return { nodes: [...form.querySelectorAll("input:checked")].map((box) => box.value) };
    case "escalate": return { to: value("to") };
    case "reply": return { question: value("question"), text: value("text") };
    default: throw new Error(`no form for ${kind}`);
  }
}

function parseParams(text) {
  const params = {};
  for (const pair of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at < 1) throw new Error(`params: ${pair} is not key=value`);
    params[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return params;
}

async function submit(form) {
  const kind = form.dataset.kind;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    if (kind === "act") {
      const canary = form.elements.canary.value || null;
      const body = { by: state.me, action: form.elements.action.value, canary,
                     params: parseParams(form.elements.params.value) };
      const out = await api("/v1/act", body);
      toast(`${out.result.action}: ${out.result.detail}`, !out.result.ok);
    } else {
      const event = await api(`/v1/events/${kind}`, { by: state.me, ...formBody(kind, form) });
      toast(`recorded at ${event.wall.slice(11, 19)} UTC: ${describe(event) || kind}`);
      if (kind === "update" || kind === "note" || kind === "reply") { form.reset(); if (kind === "update") $("update-next").value = "15"; }
    }
  } catch (error) {
    toast(`${kind}: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

// ---- drawing ----------------------------------------------------------------------------

function fillSelect(select, values, labels = values) {
  select.replaceChildren(...values.map((v, i) => element("option", { value: String(v) }, String(labels[i]))));
}

function drawMeta(meta) {
  document.title = `${meta.title}: gamedrill incident room`;
  $("title").textContent = meta.title;
  $("run-id").textContent = `run ${meta.run_id}`;
  $("access").textContent = meta.access;
  $("access").classList.toggle("facilitator", meta.access === "facilitator");
  fillSelect($("declare-severity"), meta.severities, meta.severities.map((s) => `SEV${s}`));
  $("severity-table").replaceChildren(...(meta.severity_table || []).map((row) => element("li", {}, row)));
  $("declare-severity").value = "2";
  fillSelect($("role-role"), meta.roles);
  fillSelect($("act-action"), meta.actions);
  $("members").replaceChildren(...(meta.members || []).map((m) => element("option", { value: m })));
  const help = () => {
    $("act-help").textContent = ACTION_HELP[$("act-action").value] || "";
    $("role-help").textContent = ROLE_HELP[$("role-role").value] || "";
    $("declare-help").textContent = SEVERITY_HELP[$("declare-severity").value] || "";
  };
  for (const id of ["act-action", "role-role", "declare-severity"]) $(id).addEventListener("change", help);
  state.help = help;
  fillSelect($("act-canary"), ["", ...meta.nodes], ["every node", ...meta.nodes]);
  // An action with no per-node meaning (pause-rollout) takes no canary: the drill would refuse it.
  const perNode = new Set(meta.canary_actions || meta.actions);
  const syncCanary = () => {
    const takesCanary = perNode.has($("act-action").value);
    $("act-canary").disabled = !takesCanary;
    if (!takesCanary) $("act-canary").value = "";
  };
  $("act-action").addEventListener("change", syncCanary);
  syncCanary();
  $("scope-nodes").replaceChildren(...meta.nodes.map((node) => element("label", { class: "inline" },
    element("input", { type: "checkbox", value: node, name: "nodes" }), node)));
  $("facilitator").hidden = meta.access !== "facilitator";
  help();
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  const s = Math.max(0, seconds);
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
}

function describe(event) {
  const d = event.data;
  switch (event.kind) {
    case "alert.fired": return `ALERT ${d.name}${d.node ? ` on ${d.node}` : ""}: ${d.metric} ${d.value} ${d.op} ${d.threshold}`;
    case "alert.cleared": return `alert ${d.name} cleared${d.node ? ` on ${d.node}` : ""}`;
    case "restoration.detected": return `service restored (healthy since ${clock(d.window_start_t_s)})`;
    case "slo.breached": return d.relapse ? "the shop is failing again after recovering" : "customers are affected";
    case "team.declare": return `${d.by} declared SEV${d.severity}, commander ${d.commander}`;
    case "team.update": return `${d.by} posted an update${d.status ? ` (${d.status})` : ""}: ${d.impact} / ${d.action}`;
    case "team.act": return `${d.by} ran ${d.action}${d.canary ? ` on canary ${d.canary}` : " on every node"}`;
    case "action.result": return `${d.action} ${d.ok ? "done" : "FAILED"}: ${d.detail}`;
    case "team.role": return `${d.who} is ${d.role} (named by ${d.by})`;
    case "team.suspect": return `${d.by} suspects ${d.change}`;
    case "team.scope": return `${d.by} says the affected nodes are ${d.nodes.join(", ")}`;
    case "team.note": return `${d.by} noted: ${d.text}`;
    case "team.escalate": return `${d.by} escalated to ${d.to}`;
    case "team.ack": return `${d.by} acknowledged the page`;
    case "team.resolve": return `${d.by} resolved the incident`;
    case "stakeholder.asked": return `question ${d.id} from ${d.stakeholder} (${d.title}): ${d.text}`;
    case "team.reply": return `${d.by} answered ${d.question}: ${d.text}`;
    case "team.paged": return `the on-call channel was paged (${d.trigger === "team.declare" ? "the declaration" : "the alert"})`;
    case "page.failed": return `a page could not be delivered: ${d.error}`;
    case "fault.injected": return `fault ${d.type} injected (lease ${d.ttl_s} s)`;
    case "fault.reverted": return `fault ${d.type} reverted (${d.how})`;
    case "safety.tripped": return `a safety limit stopped the drill (${d.limit})`;
    case "run.aborted": return `the drill was stopped: ${d.reason}`;
    case "run.finished": return `drill over: ${d.outcome}`;
    default: return null;
  }
}

const TIMELINE_KINDS = /^(alert|team|action|restoration|slo\.breached|fault|page|run\.finished|run\.aborted|safety|stakeholder)/;

function onJournal(event) {
  state.lastSeq = Math.max(state.lastSeq, event.seq);
  const d = event.data;
  if (event.kind === "slo.window") { state.windows.push(d); scheduleCharts(); return; } // the charts' history
  const words = TIMELINE_KINDS.test(event.kind) ? describe(event) : null;
  if (words) {
    const kindClass = event.kind.startsWith("alert") ? "alert" : event.kind.startsWith("team") ? "team" : "";
    $("timeline").prepend(element("li", { class: kindClass, "data-kind": event.kind, "data-seq": String(event.seq) },
      element("span", { class: "t" }, clock(event.t_s)), words));
  }
  noteIncident(event);
  if (event.kind === "alert.fired") state.firing.set(`${d.name}@${d.node || ""}`, event);
  if (event.kind === "alert.cleared") state.firing.delete(`${d.name}@${d.node || ""}`);
  if (event.kind === "team.update") {
    $("updates").prepend(element("li", {}, element("span", { class: "t" }, event.wall.slice(11, 19)),
      d.status ? element("span", { class: "status" }, `[${d.status}] `) : "",
      element("strong", {}, d.impact), ` ${d.action}`,
      d.next_update_s ? element("span", { class: "muted" }, ` (next update in ${Math.round(d.next_update_s / 60)} min)`) : ""));
  }
  if (event.kind === "run.planned") state.targets = d.targets || {};
  if (event.kind === "fault.injected") {
    if (state.faultAt === null) state.faultAt = event.t_s;
    state.faults.set(d.index, { ...d, at: event.t_s, reverted: null });
  }
  if (event.kind === "fault.reverted" && state.faults.has(d.index)) state.faults.get(d.index).reverted = event.t_s;
  for (const [phase, kind] of PHASES) {
    if (kind === event.kind && !(phase in state.reached)) {
      state.reached[phase] = kind === "restoration.detected" ? d.window_start_t_s : event.t_s;
    }
  }
  if (event.kind === "run.finished") {
    state.over = true;
    clearInterval(state.changesTimer); // the harness is going away: stop asking it
    showState(`The drill is over: ${d.outcome}. ${d.reason || ""}`);
  }
  if (!state.over && (event.kind === "action.result" || event.kind === "change.pushed")) refreshChanges();
  drawBanner();
  drawIncident();
  drawFacilitator();
}

// ---- the incident header: what the team has said so far --------------------------------

function noteIncident(event) {
  const d = event.data, inc = state.incident;
  switch (event.kind) {
    case "team.ack": if (inc.ackBy === null) { inc.ackBy = d.by; inc.ackAt = event.t_s; } break;
    case "team.declare":
      inc.severity = d.severity; inc.commander = d.commander; inc.roles.commander = d.commander;
      if (inc.declaredAt === null) inc.declaredAt = event.t_s;
      if (inc.status === null) inc.status = "investigating";
      break;
    case "team.role": inc.roles[d.role] = d.who; if (d.role === "commander") inc.commander = d.who; break;
    case "team.update": inc.status = d.status || inc.status || "investigating"; break;
    case "team.resolve": inc.status = "resolved"; break;
    default: break;
  }
}

function drawIncident() {
  const inc = state.incident;
  $("inc-status").textContent = inc.status || "no incident";
  $("inc-status").dataset.status = inc.status || "none";
  $("inc-severity").textContent = inc.severity === null ? "-" : `SEV${inc.severity}`;
  $("inc-commander").textContent = inc.commander || "-";
  const roles = Object.entries(inc.roles).filter(([role]) => role !== "commander");
  $("inc-roles").textContent = roles.length ? roles.map(([role, who]) => `${role} ${who}`).join(", ") : "-";
  $("inc-since").textContent = inc.declaredAt === null ? "not yet" : `${clock(Math.max(0, state.now - inc.declaredAt))} ago`;
  const firing = state.firing.size > 0;
  $("inc-ack").textContent = inc.ackBy !== null ? `acknowledged by ${inc.ackBy} at ${clock(inc.ackAt)}`
    : firing ? "paging, not acknowledged" : "-";
}

function drawBanner() {
  const firing = [...state.firing.values()];
  // An acknowledgement silences the page for everyone: someone has it (the header says who).
  $("page-banner").hidden = firing.length === 0 || state.over || state.incident.ackBy !== null;
  $("page-text").textContent = firing.map((e) => describe(e)).join("; ");
  $("alerts-firing").textContent = firing.length ? `firing: ${firing.map((e) => e.data.name).join(", ")}` : "no alert firing";
}

function showState(text) {
  $("state-banner").textContent = text;
  $("state-banner").hidden = false;
}

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#0969da", "#8250df", "#bf3989", "#1a7f37", "#bc4c00"];

function polyline(svg, points, tMax, max, cssClass, colour) {
  const width = 300, height = 80;
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("class", cssClass);
  line.setAttribute("points", points.map(([t, v]) => `${(t / tMax) * width},${height - (Math.min(v, max) / max) * height}`).join(" "));
  if (colour) line.setAttribute("stroke", colour);
  svg.append(line);
}

function drawChart(svg, legend, overall, perNode, limit) {
  const tMax = Math.max(10, ...overall.map(([t]) => t));
  const values = [...overall, ...Object.values(perNode).flat()].map(([, v]) => v);
  const max = Math.max(limit * 1.5, ...values);
  svg.replaceChildren();
  Object.values(perNode).forEach((points, i) => polyline(svg, points, tMax, max, "node", PALETTE[i % PALETTE.length]));
  polyline(svg, overall, tMax, max, "overall");
  polyline(svg, [[0, limit], [tMax, limit]], tMax, max, "limit");
  const swatch = (colour, cls = "") => {
    const box = element("span", { class: `swatch ${cls}` });
    if (colour) box.style.background = colour; // CSSOM, not a style attribute: the page's CSP allows it
    return box;
  };
  legend.replaceChildren(element("span", {}, swatch("#24292f"), "all nodes"),
    ...Object.keys(perNode).map((node, i) => element("span", { "data-series": node }, swatch(PALETTE[i % PALETTE.length]), node)),
    element("span", {}, swatch("", "dashed"), limit < 1 ? `${limit * 100}% line` : `${limit} ms line`));
}

// One redraw per frame, however many windows arrive (the backlog of a long drill comes at once).
function scheduleCharts() {
  if (state.chartPending) return;
  state.chartPending = true;
  requestAnimationFrame(() => { state.chartPending = false; drawCharts(); });
}

function drawCharts() {
  const errors = [], p99 = [], nodes = {};
  for (const w of state.windows) {
    const t = w.start_t_s;
    errors.push([t, w.requests ? w.failures / w.requests : 0]);
    p99.push([t, w.p99_ms ?? 0]);
    for (const [node, [requests, failures]] of Object.entries(w.nodes || {})) {
      (nodes[node] ||= []).push([t, requests ? failures / requests : 0]);
    }
  }
  drawChart($("chart-errors"), $("legend-errors"), errors, nodes, 0.05);
  drawChart($("chart-p99"), $("legend-p99"), p99, {}, 500);
  const last = state.windows[state.windows.length - 1];
  $("errors-range").textContent = last ? `(0:00 to ${clock(last.start_t_s + 1)})` : "";
  $("p99-range").textContent = $("errors-range").textContent;
}

function onSlo(status) {
  state.now = status.t_s;
  $("clock").textContent = clock(status.t_s);
  const rows = [];
  for (const [node, view] of Object.entries(status.nodes)) {
    const bad = view.error_rate > 0.05 || view.probe_ok === false;
    rows.push(element("tr", { "data-node": node }, element("td", {}, node), element("td", {}, String(view.requests)),
      element("td", {}, String(view.failures)), element("td", {}, view.p99_ms === null ? "-" : String(view.p99_ms)),
      element("td", { class: view.probe_ok === false ? "bad" : "ok" }, view.probe_ok === null ? "-" : view.probe_ok ? "up" : "DOWN"),
      element("td", { class: bad ? "bad" : "ok" }, `${(view.error_rate * 100).toFixed(1)} %`)));
  }
  $("nodes").tBodies[0].replaceChildren(...rows);
  drawIncident();
  drawFacilitator();
}

async function refreshChanges() {
  try {
    const changes = await api("/v1/changes");
    $("changes").tBodies[0].replaceChildren(...changes.slice().reverse().map((c) => element("tr", {},
      element("td", {}, String(c.id)), element("td", {}, (c.at_iso || "").slice(0, 19).replace("T", " ")),
      element("td", {}, `${c.kind} ${c.artifact_kind} ${c.version}`), element("td", {}, (c.targets || []).join(", ")),
      element("td", {}, c.author || ""))));
    const refs = [...new Set(changes.filter((c) => c.kind !== "rollback").map((c) => `${c.kind} ${c.version}`)), "none"];
    $("change-refs").replaceChildren(...refs.map((r) => element("option", { value: r })));
  } catch (error) {
    if (error.status !== 409) toast(`change log: ${error.message}`, true);
  }
}

async function drawTruth() {
  try {
    const truth = await api("/v1/truth");
    const t = truth.truth;
    const trigger = t.trigger.none ? "no change (a latent fault)" : `${t.trigger.kind} ${t.trigger.version}`;
    $("truth").replaceChildren(
      element("p", {}, element("strong", {}, "Ground truth: "), `triggered by ${trigger}; affects ${t.affected_nodes.join(", ")}`),
      element("p", {}, `fixes: ${t.fixes.join(", ") || "none"}; masks: ${t.masks.join(", ") || "none"}; `
        + `makes it worse: ${t.worsens.join(", ") || "none"}`));
  } catch (error) {
    toast(`ground truth: ${error.message}`, true);
  }
}

function drawFacilitator() {
  if (!state.meta || state.meta.access !== "facilitator") return;
  $("faults").replaceChildren(...[...state.faults.values()].map((f) => {
    const left = f.reverted === null ? `lease ${f.ttl_s} s, renewed while the harness lives` : `reverted at ${clock(f.reverted)}`;
    return element("li", {}, `${f.type} ${f.kind || f.service || f.proxy || ""} ${f.version || ""} at ${clock(f.at)}: ${left}`);
  }));
  const rows = PHASES.map(([phase]) => {
    const target = state.targets[TARGET_OF[phase]];
    const at = phase in state.reached && state.faultAt !== null ? state.reached[phase] - state.faultAt : null;
    const running = state.faultAt === null ? null : state.now - state.faultAt;
    const shown = at !== null ? at : running;
    const late = target !== null && target !== undefined && shown !== null && shown > target;
    const cls = at !== null ? (late ? "late" : "met") : late ? "late" : "";
    return element("tr", { "data-phase": phase }, element("td", {}, phase),
      element("td", { class: cls }, shown === null ? "-" : `${clock(shown)}${at === null ? " (running)" : ""}`),
      element("td", {}, target === null || target === undefined ? "-" : clock(target)));
  });
  $("phases").tBodies[0].replaceChildren(...rows);
}

// ---- the live stream --------------------------------------------------------------------

async function stream() {
  while (!state.over) {
    try {
      const response = await fetch(`/v1/stream?since=${state.lastSeq}`, { headers: { Authorization: `Bearer ${state.token}` } });
      if (!response.ok) throw new Error(`stream: ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (!state.over) toast(`live updates: ${error.message}; reconnecting`, true);
    }
    if (!state.over) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function dispatch(frame) {
  let name = "message", data = "";
  for (const line of frame.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!data) return;
  const parsed = JSON.parse(data);
  if (name === "journal") onJournal(parsed);
  else if (name === "slo") onSlo(parsed);
}

// ---- start ------------------------------------------------------------------------------

async function start() {
  state.token = takeToken();
  if (!state.token) {
    showState("No token: open the link `gamedrill console` prints (it ends in #token=...).");
    return;
  }
  try {
    state.meta = await api("/v1/meta");
  } catch (error) {
    showState(`The control API refused this page: ${error.message}`);
    return;
  }
  drawMeta(state.meta);
  setMe(localStorage.getItem("gamedrill.name") || await askName());
  $("change-me").onclick = async () => setMe(await askName());
  for (const form of document.querySelectorAll("form[data-kind]")) {
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(form); });
  }
  $("page-ack").onclick = () => submit($("f-ack"));
  $("f-abort").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/v1/abort", { reason: $("abort-reason").value.trim() });
      toast("abort requested: every fault is being reverted");
    } catch (error) { toast(`abort: ${error.message}`, true); }
  });
  if (state.meta.access === "facilitator") drawTruth();
  refreshChanges();
  state.changesTimer = setInterval(refreshChanges, 5000);
  stream();
}

document.addEventListener("DOMContentLoaded", start);

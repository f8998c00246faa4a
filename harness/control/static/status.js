// The status page: the incident's state and updates as the team posted them, the shop's
// components as measured; the same view the run directory's status.html is written from.
"use strict";

function node(tag, attrs, text) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

function draw(view) {
  const summary = document.getElementById("summary");
  summary.textContent = view.headline;
  summary.dataset.status = view.status || "none";
  summary.classList.toggle("open", Boolean(view.status) && view.status !== "resolved");
  document.getElementById("components").replaceChildren(...view.components.map((c) => {
    const item = node("li", { "data-state": c.state }, `${c.name}: `);
    item.append(node("span", { class: c.state.split(" ")[0] }, c.state));
    return item;
  }));
  document.getElementById("updates").replaceChildren(...view.updates.map((u) => {
    const item = node("li", { "data-status": u.status });
    item.append(
      node("div", { class: "when" }, `${u.wall.slice(0, 19).replace("T", " ")} UTC`
        + (u.next_update_s ? `, next update in ${Math.max(1, Math.round(u.next_update_s / 60))} min` : "")),
      node("span", { class: "state" }, u.status), document.createTextNode(": "),
      node("strong", {}, u.impact), node("div", {}, u.action));
    return item;
  }));
}

async function refresh() {
  try {
    const response = await fetch("/v1/public/status");
    if (response.ok) draw(await response.json());
  } catch {
    // the drill is over or the harness is gone: keep what is shown (status.html in the run dir stays)
  }
}

document.addEventListener("DOMContentLoaded", () => { refresh(); setInterval(refresh, 2000); });

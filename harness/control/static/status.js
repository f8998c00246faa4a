// The status page: only what the team posted as status updates, as customers would see it.
"use strict";

async function refresh() {
  let updates;
  try {
    const response = await fetch("/v1/public/updates");
    if (!response.ok) return;
    updates = await response.json();
  } catch {
    return; // the drill is over or the harness is gone: keep what is shown
  }
  const summary = document.getElementById("summary");
  summary.textContent = updates.length ? `Investigating: ${updates[updates.length - 1].impact}` : "All systems operational.";
  summary.classList.toggle("incident", updates.length > 0);
  const items = updates.slice().reverse().map((u) => {
    const item = document.createElement("li");
    const when = document.createElement("div");
    when.className = "when";
    when.textContent = `${u.wall.slice(0, 19).replace("T", " ")} UTC`
      + (u.next_update_s ? `, next update in ${Math.round(u.next_update_s / 60)} min` : "");
    const impact = document.createElement("strong");
    impact.textContent = u.impact;
    const action = document.createElement("div");
    action.textContent = u.action;
    item.append(when, impact, action);
    return item;
  });
  document.getElementById("updates").replaceChildren(...items);
}

document.addEventListener("DOMContentLoaded", () => { refresh(); setInterval(refresh, 2000); });

// The review queue: flagged tickets first (needs_review), then the others, newest first;
// department, status and assignee changes and comments through the REST API.
"use strict";
import { api, forget, setUpSignIn } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const STATUSES = ["open", "in_progress", "resolved", "closed"];
let labels = [];

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function select(id, label, values, current) {
  const box = element("select", { id, name: id });
  for (const value of values) box.append(element("option", { value, selected: value === current }, value));
  return [element("label", { htmlFor: id }, label), box];
}

async function showEvents(ticket, list) {
  const events = await api("GET", `/tickets/${ticket}/events?limit=100`);
  list.replaceChildren(...(events.data?.items || []).map((event) => {
    const what = event.kind === "changed" ? `${event.field}: ${event.from ?? "–"} → ${event.to ?? "–"}` : event.kind;
    return element("li", {}, `${event.at.slice(0, 16).replace("T", " ")} · ${event.by ?? ""} · ${what}`);
  }));
}

function row(ticket) {
  const id = ticket.id;
  const events = element("ul", { className: "events", id: `events-${id}` });
  const [departmentLabel, department] = select(`department-${id}`, "Department", labels, ticket.department);
  const [statusLabel, status] = select(`status-${id}`, "Status", STATUSES, ticket.status);
  const assignee = element("input", { id: `assignee-${id}`, value: ticket.assignee || "", placeholder: "agent name" });
  const comment = element("textarea", { id: `comment-${id}`, placeholder: "Comment (optional)" });
  const internal = element("input", { type: "checkbox", id: `internal-${id}` });
  const save = element("button", { type: "button", id: `save-${id}` }, `Save #${id}`);
  const saved = element("p", { className: "status", id: `saved-${id}`, role: "status" });
  save.addEventListener("click", async () => {
    const current = await api("GET", `/tickets/${id}`);
    const patch = {};
    if (department.value !== current.data.department) patch.department = department.value;
    if (status.value !== current.data.status) patch.status = status.value;
    if ((assignee.value.trim() || null) !== current.data.assignee) patch.assignee = assignee.value.trim() || null;
    const problems = [];
    if (Object.keys(patch).length) {
      const changed = await api("PATCH", `/tickets/${id}`, patch, { "If-Match": current.etag });
      if (!changed.ok) problems.push(changed.data?.detail || changed.status);
    }
    if (comment.value.trim()) {
      const added = await api("POST", `/tickets/${id}/comments`, { body: comment.value.trim(), internal: internal.checked });
      if (added.ok) comment.value = ""; else problems.push(added.data?.detail || added.status);
    }
    saved.textContent = problems.length ? `Not saved: ${problems.join("; ")}` : "Saved.";
    saved.className = problems.length ? "error" : "status";
    await showEvents(id, events);
  });
  const details = element("details", {}, element("summary", {}, "History"), events);
  details.addEventListener("toggle", () => details.open && showEvents(id, events));
  return element("tr", { className: ticket.needs_review ? "flagged" : "", id: `ticket-${id}` },
    element("td", {}, String(id)),
    element("td", {}, element("strong", {}, ticket.title), element("br"), ticket.description || "", details),
    element("td", {}, `${ticket.predicted_department} (${Math.round(ticket.confidence * 100)} %)`,
      ticket.needs_review ? element("span", { className: "badge" }, " to review") : ""),
    element("td", {}, element("div", { className: "edit" }, departmentLabel, department, statusLabel, status,
      element("label", { htmlFor: `assignee-${id}` }, "Assignee"), assignee,
      element("label", { htmlFor: `comment-${id}` }, "Comment"), comment,
      element("label", {}, internal, " internal note"), save, saved)));
}

async function load() {
  const health = await fetch("/health").then((r) => r.json());
  labels = health.model.labels;
  const flagged = await api("GET", "/tickets?needs_review=true&limit=50");
  const others = await api("GET", "/tickets?needs_review=false&limit=50");
  const tickets = [...(flagged.data?.items || []), ...(others.data?.items || [])];
  $("queue").replaceChildren(...tickets.map(row));
  $("status").textContent = `${flagged.data?.total ?? 0} to review, ${others.data?.total ?? 0} others.`;
}

setUpSignIn({
  form: $("signin"),
  input: $("key"),
  error: $("signin-error"),
  roles: ["agent", "admin"],
  onSignedIn: async () => {
    $("signin").hidden = true;
    $("queue-section").hidden = false;
    $("signout").hidden = false;
    await load();
  },
});
$("signout").addEventListener("click", () => { forget(); location.reload(); });

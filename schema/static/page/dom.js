// Small DOM helpers: elements are built with h(), never from HTML strings, so text from
// the API (titles, names, reasons) is always text and never markup.

import { t, pct } from "./i18n.js";

/** h("div.card", {onclick, dataset: {id}}, child, "text", [more]) */
export function h(tag, props = {}, ...children) {
  if (props === null || typeof props !== "object" || props instanceof Node || Array.isArray(props)) {
    children.unshift(props);
    props = {};
  }
  const [name, ...classes] = tag.split(".");
  const element = document.createElement(name || "div");
  if (classes.length) element.className = classes.join(" ");
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "class") element.classList.add(...String(value).split(" ").filter(Boolean));
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function show(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A short message at the bottom of the screen; `kind` is "ok", "error" or "info". */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = h(`div.toast.${kind}`, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

export function healthClass(health) {
  return health ? `health-${health.toLowerCase().replace("_", "-")}` : "health-none";
}

export function healthBadge(health) {
  return h(`span.badge.${healthClass(health)}`, { dataset: { health: health || "" } },
    t(health ? `health.${health}` : "health.none"));
}

/** A progress bar 0..1 coloured by health. */
export function progressBar(progress, health) {
  const width = progress == null ? 0 : Math.max(0, Math.min(1, progress)) * 100;
  const fill = h(`span.fill.${healthClass(health)}`);
  fill.style.width = `${width}%`; // through CSSOM: the policy refuses inline style attributes
  return h(
    "span.progress",
    { title: pct(progress), role: "progressbar", "aria-valuenow": String(Math.round(width)) },
    fill,
  );
}

/** A table from rows: columns are [{label, cell(row) → node|text, class}]. */
export function table(columns, rows, { empty = t("empty"), rowProps } = {}) {
  if (!rows.length) return h("p.empty", empty);
  return h(
    "div.table-wrap",
    h(
      "table",
      h("thead", h("tr", columns.map((c) => h("th", { class: c.class }, c.label)))),
      h(
        "tbody",
        rows.map((row) =>
          h("tr", rowProps ? rowProps(row) : {}, columns.map((c) => h("td", { class: c.class }, c.cell(row))))
        )
      )
    )
  );
}

export function section(title, ...children) {
  return h("section.card", h("h2", title), ...children);
}

/** The view's error state, with a retry. */
export function failed(root, error, retry) {
  show(root, h("div.card.failure", h("p", t("error", { message: error.message })),
    retry ? h("button", { type: "button", onclick: retry }, t("retry")) : null));
}

/** Runs `action` with `button` disabled, toasting a refusal in the reader's language. */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    toast(error.message, "error");
    return undefined;
  } finally {
    button.disabled = false;
  }
}

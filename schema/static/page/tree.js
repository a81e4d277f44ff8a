// The goal tree: objectives, aligned objectives, key results and the KPIs feeding them,
// expandable, searchable by title or owner, with each node's score lineage on click.
// Three levels load at once and deeper branches when opened; progress, scores and
// health update live through goalProgress, one subscription per top-level objective.

import { t, texts, pick, num, pct } from "./i18n.js";
import { gql, mutate, subscribe } from "./gql.js";
import { GOAL_TREE, GOAL_TREE_ALL, CHILDREN, EXPLAIN, GOAL_PROGRESS, CHECK_IN } from "./queries.js";
import { h, show, healthBadge, progressBar, failed, toast, busy } from "./dom.js";

texts({
  zh: {
    "tree.search": "按标题或负责人搜索",
    "tree.noMatch": "没有匹配的目标",
    "tree.shared": "同时支撑 {count} 个关键结果",
    "tree.score": "得分",
    "tree.trend": "趋势",
    "tree.explain": "得分来源",
    "tree.close": "关闭",
    "tree.policy": "评分策略",
    "tree.value": "当前值",
    "tree.target": "目标值",
    "tree.threshold": "及格线",
    "tree.achievement": "达成率",
    "tree.formula": "计算",
    "tree.feeds": "支撑的关键结果",
    "tree.hidden": "无权查看数值",
    "tree.collapseAll": "全部收起",
    "tree.checkIn": "更新进度",
    "tree.checkInValue": "当前值（{unit}）",
    "tree.confidence": "信心（%）",
    "tree.note": "备注",
    "tree.checkInSubmit": "提交",
    "tree.checkedIn": "进度已更新",
    "tree.range": "起点 {start} · 目标 {target}",
  },
  en: {
    "tree.search": "Search by title or owner",
    "tree.noMatch": "No goal matches",
    "tree.shared": "Feeds {count} key results",
    "tree.score": "Score",
    "tree.trend": "Trend",
    "tree.explain": "Where the score comes from",
    "tree.close": "Close",
    "tree.policy": "Scoring policy",
    "tree.value": "Current value",
    "tree.target": "Target",
    "tree.threshold": "Pass threshold",
    "tree.achievement": "Achievement",
    "tree.formula": "Calculation",
    "tree.feeds": "Key results it feeds",
    "tree.hidden": "Values not visible to you",
    "tree.collapseAll": "Collapse all",
    "tree.checkIn": "Check in",
    "tree.checkInValue": "Current value ({unit})",
    "tree.confidence": "Confidence (%)",
    "tree.note": "Note",
    "tree.checkInSubmit": "Submit",
    "tree.checkedIn": "Progress updated",
    "tree.range": "Start {start} · target {target}",
  },
});

/** A node's children are known (objects with fields) or only counted (ids alone). */
const loaded = (node) => node.children.every((child) => "kind" in child);

function ownerName(node) {
  return pick(node.owner, "name");
}

function valueText(node) {
  if (node.kind === "KPI") {
    if (!node.valuesVisible) return t("tree.hidden");
    return `${num(node.currentValue)} / ${num(node.target)} ${node.unit || ""}`.trim();
  }
  if (node.kind === "KEY_RESULT" && node.children.length === 0) {
    // checked in by hand; a key result fed by KPIs takes its progress from them
    return `${num(node.currentValue)} / ${num(node.targetValue)} ${node.unit || ""}`.trim();
  }
  return "";
}

export default {
  nav: "tree",
  render(root, ctx) {
    const state = {
      roots: [],
      nodes: new Map(), // id → latest fields
      open: new Set(),
      query: "",
      complete: false,
    };
    const list = h("ul.tree", { role: "tree" });
    const panel = h("aside.explain", { hidden: true });
    const search = h("input.search", {
      type: "search",
      placeholder: t("tree.search"),
      "aria-label": t("tree.search"),
      oninput: () => onSearch(search.value),
    });
    let stops = [];
    let searchTimer = null;

    /** The newest fields of a node, whichever copy of it (a shared KPI) they came with. */
    function remember(node) {
      const { children, ...fields } = node;
      const previous = state.nodes.get(node.id);
      state.nodes.set(node.id, { ...previous, ...fields, children: children ?? previous?.children ?? [] });
      for (const child of children || []) if ("kind" in child) remember(child);
    }

    function matches(node) {
      const q = state.query;
      return [node.title, node.titleEn, node.owner?.name, node.owner?.nameEn]
        .some((text) => text && text.toLowerCase().includes(q));
    }

    /** Whether node or a loaded descendant matches the search. */
    function visible(node, memo) {
      if (!state.query) return true;
      if (memo.has(node)) return memo.get(node);
      const result = matches(node) || (loaded(node) && node.children.some((c) => visible(c, memo)));
      memo.set(node, result);
      return result;
    }

    function row(node, depth, memo) {
      const known = state.nodes.get(node.id) || node;
      const hasChildren = node.children.length > 0;
      const isOpen = state.open.has(node.id) || (state.query && hasChildren && loaded(node));
      const shared = known.kind === "KPI" ? (known.feeds || []).length : 0;
      const toggle = h("button.toggle", {
        type: "button",
        "aria-label": isOpen ? "−" : "+",
        disabled: !hasChildren,
        onclick: () => toggleNode(node),
      }, hasChildren ? (isOpen ? "▾" : "▸") : "·");
      const title = h("button.title.link", {
        type: "button",
        onclick: () => explain(known),
      }, pick(known, "title"));
      const item = h(
        "li",
        {
          role: "treeitem",
          "aria-expanded": hasChildren ? String(Boolean(isOpen)) : null,
          class: `kind-${known.kind.toLowerCase()}${state.query && matches(known) ? " match" : ""}`,
          dataset: { node: node.id, kind: known.kind },
        },
        h(
          "div.row",
          toggle,
          h("span.kind", t(`kind.${known.kind}`)),
          title,
          h("span.mark", shared > 1
            ? h("span.shared", { title: t("tree.shared", { count: shared }) }, `⇉${shared}`)
            : null),
          h("span.owner", ownerName(known)),
          h("span.value", valueText(known)),
          progressBar(known.progress, known.health),
          h("span.score", { title: t("tree.score") }, num(known.score)),
          healthBadge(known.health),
          known.kind === "KPI"
            ? h("a.trend", { href: `#/trends/${encodeURIComponent(node.id)}` }, t("tree.trend"))
            : h("span")
        )
      );
      item.querySelector(".row").style.paddingLeft = `${depth * 1.1}rem`;
      if (isOpen && hasChildren) {
        if (loaded(node)) {
          const children = node.children.filter((c) => visible(c, memo));
          item.append(h("ul", { role: "group" }, children.map((c) => row(c, depth + 1, memo))));
        } else {
          item.append(h("p.loading", t("loading")));
        }
      }
      return item;
    }

    function draw() {
      const memo = new Map();
      const roots = state.roots.filter((r) => visible(r, memo));
      if (!roots.length) {
        show(list, h("li.empty", state.query ? t("tree.noMatch") : t("empty")));
        return;
      }
      show(list, roots.map((r) => row(r, 0, memo)));
    }

    async function fetchTree(document, variables) {
      return (await gql(document, variables)).goalTree;
    }

    async function toggleNode(node) {
      if (state.open.has(node.id)) {
        state.open.delete(node.id);
        return draw();
      }
      state.open.add(node.id);
      if (!loaded(node)) {
        draw();
        try {
          const fresh = (await gql(CHILDREN, { id: node.id })).node;
          node.children = fresh.children;
          fresh.children.forEach(remember);
        } catch (error) {
          state.open.delete(node.id);
          toast(error.message, "error");
        }
      }
      draw();
    }

    async function onSearch(value) {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(async () => {
        state.query = value.trim().toLowerCase();
        if (state.query && !state.complete) {
          // search reaches every node: load the whole graph once
          state.roots = await fetchTree(GOAL_TREE_ALL, {});
          state.roots.forEach(remember);
          state.complete = true;
        }
        draw();
      }, 150);
    }

    async function explain(node) {
      panel.hidden = false;
      show(panel, h("p.loading", t("loading")));
      try {
        const { node: detail } = await gql(EXPLAIN, { id: node.id });
        const rows = [];
        if (detail.__typename === "Kpi" && detail.lineage) {
          const e = detail.lineage;
          rows.push(
            [t("tree.policy"), e.policy],
            [t("tree.value"), `${num(e.value)} ${detail.unit}`],
            [t("tree.target"), `${num(e.target)} ${detail.unit}`],
            [t("tree.threshold"), `${num(e.threshold)} ${detail.unit}`],
            [t("tree.achievement"), pct(e.achievement, 1)],
            [t("tree.formula"), h("code", e.formula)],
            [t("tree.score"), num(e.score, 3)]
          );
          if (e.note) rows.push(["", e.note]);
        } else if (detail.__typename === "Kpi") {
          rows.push([t("tree.value"), t("tree.hidden")]);
        } else {
          rows.push([t("tree.formula"), h("code", detail.explain || "—")], [t("tree.score"), num(detail.score, 3)]);
        }
        show(
          panel,
          h("div.explain-head", h("h2", pick(detail, "title")),
            h("button.link", { type: "button", onclick: () => { panel.hidden = true; } }, t("tree.close"))),
          h("p.muted", t("tree.explain")),
          h("dl", rows.map(([label, value]) => [h("dt", label), h("dd", value)])),
          detail.__typename === "Kpi" && detail.feeds?.length
            ? [h("h3", t("tree.feeds")), h("ul", detail.feeds.map((f) =>
                h("li", `${pick(f.keyResult, "title")} ×${num(f.weight)}`)))]
            : null,
          detail.__typename === "Kpi"
            ? h("a.trend", { href: `#/trends/${encodeURIComponent(detail.id)}` }, t("tree.trend"))
            : null,
          detail.__typename === "KeyResult" && detail.kpiLinks.length === 0 ? checkInForm(detail) : null
        );
      } catch (error) {
        show(panel, h("p.problem", error.message));
      }
    }

    /** A key result measured by hand (no KPI feeds it) takes check-ins here; the answer
     *  updates the tree at once, before the subscription's event confirms it. */
    function checkInForm(keyResult) {
      if (!ctx.can("ADMIN", "CONSULTANT", "MANAGER", "EMPLOYEE")) return null;
      const value = h("input", { type: "number", step: "any", name: "checkInValue", required: true,
        value: keyResult.currentValue == null ? "" : String(keyResult.currentValue) });
      const confidence = h("input", { type: "number", min: "0", max: "100", step: "5", name: "confidence" });
      const note = h("input", { type: "text", name: "note", maxlength: "500" });
      const submit = h("button.primary", { type: "submit" }, t("tree.checkInSubmit"));
      return h("form.check-in", {
        onsubmit: (event) => {
          event.preventDefault();
          busy(submit, async () => {
            const input = {
              keyResultId: keyResult.id,
              value: Number(value.value),
              confidence: confidence.value === "" ? null : Number(confidence.value) / 100,
              note: note.value,
            };
            const payload = await mutate("checkIn", CHECK_IN, { input });
            apply({ node: payload.keyResult });
            toast(t("tree.checkedIn"), "ok");
          });
        },
      },
      h("h3", t("tree.checkIn")),
      h("p.muted", t("tree.range", { start: num(keyResult.startValue), target: num(keyResult.targetValue) })),
      h("label", t("tree.checkInValue", { unit: keyResult.unit }), value),
      h("label", t("tree.confidence"), confidence),
      h("label", t("tree.note"), note),
      submit);
    }

    /** A live change: every place the node shows (a shared KPI shows several times). */
    function apply(change) {
      const node = change.node;
      remember(node);
      const known = state.nodes.get(node.id);
      for (const item of list.querySelectorAll(`li[data-node="${CSS.escape(node.id)}"]`)) {
        const rowElement = item.querySelector(":scope > .row");
        rowElement.querySelector(".progress").replaceWith(progressBar(known.progress, known.health));
        rowElement.querySelector(".badge").replaceWith(healthBadge(known.health));
        rowElement.querySelector(".score").textContent = num(known.score);
        rowElement.querySelector(".value").textContent = valueText(known);
        rowElement.classList.remove("flash");
        void rowElement.offsetWidth; // restart the highlight
        rowElement.classList.add("flash");
      }
    }

    async function load() {
      const roots = await fetchTree(GOAL_TREE, {});
      state.roots = roots;
      state.complete = false;
      roots.forEach(remember);
      if (state.open.size === 0) roots.forEach((r) => state.open.add(r.id));
      draw();
      watch();
    }

    function watch() {
      stops.forEach((stop) => stop());
      stops = state.roots.map((r) =>
        subscribe(GOAL_PROGRESS, { rootId: r.id }, (data) => {
          const event = data.goalProgress;
          if (event.weightingChanged || event.resync) return reload();
          event.changes.forEach(apply);
        }, reload)
      );
    }

    let reloading = null;
    function reload() {
      reloading ??= load().catch((error) => toast(error.message, "error")).finally(() => {
        reloading = null;
      });
      return reloading;
    }

    show(
      root,
      h("div.toolbar", search,
        h("button.link", { type: "button", onclick: () => {
          state.open.clear();
          draw();
        } }, t("tree.collapseAll"))),
      h("div.tree-layout", h("div.card.tree-card", list), panel)
    );
    load().catch((error) => failed(root, error, ctx.refresh));
    return () => stops.forEach((stop) => stop());
  },
};

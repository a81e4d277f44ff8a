// A KPI's values over time against its target and pass threshold. Without a KPI in the
// route it lists the KPIs to choose from. The chart follows new values live.

import { t, texts, pick, num, date } from "./i18n.js";
import { gql, subscribe } from "./gql.js";
import { KPI_TREND, KPI_LIST, GOAL_PROGRESS, ROOT_IDS } from "./queries.js";
import { h, show, healthBadge, failed, table } from "./dom.js";
import { lineChart } from "./chart.js";

texts({
  zh: {
    "trends.pick": "选择一个 KPI 查看趋势",
    "trends.since": "起始日期",
    "trends.target": "目标",
    "trends.threshold": "及格线",
    "trends.values": "{count} 个数据点",
    "trends.hidden": "你无权查看这个 KPI 的数值",
    "trends.latest": "最近的记录",
    "trends.period": "周期",
    "trends.value": "数值",
    "trends.source": "来源",
    "trends.back": "返回列表",
    "trends.owner": "负责人",
  },
  en: {
    "trends.pick": "Pick a KPI to see its trend",
    "trends.since": "Since",
    "trends.target": "Target",
    "trends.threshold": "Threshold",
    "trends.values": "{count} values",
    "trends.hidden": "You may not see this KPI's values",
    "trends.latest": "Latest values",
    "trends.period": "Period",
    "trends.value": "Value",
    "trends.source": "Source",
    "trends.back": "All KPIs",
    "trends.owner": "Owner",
  },
});

const isoDay = (d) => d.toISOString().slice(0, 10);

async function listKpis(root) {
  const kpis = [];
  let after = null;
  do {
    const page = (await gql(KPI_LIST, { after })).kpis;
    kpis.push(...page.edges.map((e) => e.node));
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after && kpis.length < 2000);
  show(
    root,
    h("section.card", h("h2", t("trends.pick")),
      table(
        [
          { label: "KPI", cell: (k) => h("a", { href: `#/trends/${encodeURIComponent(k.id)}` }, pick(k, "title")) },
          { label: t("trends.owner"), cell: (k) => pick(k.owner, "name") },
          { label: "", cell: (k) => healthBadge(k.health) },
        ],
        kpis
      ))
  );
}

async function showKpi(root, kpiId) {
  const since = h("input", { type: "date", value: isoDay(new Date(Date.now() - 90 * 86400000)) });
  const body = h("div");
  async function draw() {
    const data = await gql(KPI_TREND, { kpiId, since: since.value || null });
    const kpi = data.kpi;
    if (!kpi) return show(body, h("p.empty", t("empty")));
    const points = data.measurements.edges
      .map((e) => ({ date: e.node.periodStart, value: e.node.value, source: e.node.source }))
      .sort((a, b) => a.date.localeCompare(b.date));
    const title = pick(kpi, "title");
    show(
      body,
      h("div.trend-head", h("h2", title), healthBadge(kpi.health),
        h("span.muted", `${pick(kpi.owner, "name")} · ${t("trends.values", { count: points.length })}`)),
      kpi.valuesVisible
        ? [
            lineChart(points, [
              { value: kpi.target, class: "target", label: t("trends.target") },
              { value: kpi.threshold, class: "threshold", label: t("trends.threshold") },
            ], title),
            h("h3", t("trends.latest")),
            table(
              [
                { label: t("trends.period"), cell: (p) => date(p.date) },
                { label: t("trends.value"), cell: (p) => `${num(p.value)} ${kpi.unit}`, class: "num" },
                { label: t("trends.source"), cell: (p) => p.source },
              ],
              points.slice(-10).reverse()
            ),
          ]
        : h("p.empty", t("trends.hidden"))
    );
  }
  since.addEventListener("change", () => draw().catch((error) => failed(body, error)));
  show(
    root,
    h("section.card.trend",
      h("div.toolbar", h("a", { href: "#/trends" }, "← " + t("trends.back")),
        h("label.inline", t("trends.since"), since)),
      body)
  );
  await draw();
  // a new value for this KPI redraws the chart: progress is published per top-level
  // objective, so the view listens under each and picks out its KPI
  const redraw = () => draw().catch((error) => failed(body, error));
  const roots = (await gql(ROOT_IDS)).goalTree;
  const stops = roots.map((r) =>
    subscribe(GOAL_PROGRESS, { rootId: r.id }, (data) => {
      const event = data.goalProgress;
      if (event.resync || event.changes.some((c) => c.node.id === kpiId)) redraw();
    }, redraw)
  );
  return () => stops.forEach((stop) => stop());
}

export default {
  nav: "trends",
  async render(root, ctx, [kpiId]) {
    try {
      if (!kpiId) return await listKpis(root);
      return await showKpi(root, kpiId);
    } catch (error) {
      failed(root, error, ctx.refresh);
      return undefined;
    }
  },
};

// The loop: open alerts on persistent misses, training recommendations, target
// adjustments and OKR/KPI disconnects (断层点), each with the evidence behind it, and the
// cross report per unit. Accept and dismiss show for the roles that may use them; the
// server still decides on each one (a manager only for their unit, and so on).

import { t, texts, pick, num, pct, date } from "./i18n.js";
import { gql, mutate } from "./gql.js";
import {
  LOOP, CROSS_REPORT, ACCEPT_RECOMMENDATION, DISMISS_RECOMMENDATION,
  ACCEPT_ADJUSTMENT, DISMISS_ADJUSTMENT,
} from "./queries.js";
import { h, show, failed, table, toast, busy, section } from "./dom.js";
import { lineChart } from "./chart.js";

texts({
  zh: {
    "loop.alerts": "预警（{count}）",
    "loop.recommendations": "培训建议（{count}）",
    "loop.adjustments": "目标调整建议（{count}）",
    "loop.disconnects": "断层点（{count}）",
    "loop.cross": "交叉分析报告 · {cycle}",
    "loop.misses": "连续 {count} 期未达标",
    "loop.accept": "接受",
    "loop.dismiss": "忽略",
    "loop.accepted": "已接受",
    "loop.dismissed": "已忽略",
    "loop.hours": "{hours} 学时",
    "loop.for": "{person} · 因 {kpi}",
    "loop.target": "目标 {from} → 建议 {to}（达成率 {attainment}）",
    "loop.strength": "强度 {strength} · {periods} 期",
    "loop.threshold": "及格线",
    "loop.unit": "部门",
    "loop.okr": "OKR 评分",
    "loop.kpi": "KPI 得分",
    "loop.combined": "综合",
    "loop.lagging": "落后的 KPI",
    "loop.alertCount": "预警",
    "loop.none": "没有待处理的事项",
    "alertKind.consecutive_misses": "连续未达标",
    "disconnect.kpi_met_okr_flat": "KPI 达标，OKR 停滞",
    "disconnect.okr_improves_kpi_missed": "OKR 推进，KPI 未达标",
    "evidence.mean_attainment": "平均达成率",
    "evidence.spearman_rho": "斯皮尔曼相关系数 ρ",
    "evidence.theil_sen_slope": "Theil–Sen 斜率",
    "evidence.sign_p": "符号检验 p 值",
    "evidence.mk_z": "Mann–Kendall z",
    "evidence.mk_p_increasing": "Mann–Kendall 上升 p 值",
    "evidence.kpi_periods": "KPI 期数",
  },
  en: {
    "loop.alerts": "Alerts ({count})",
    "loop.recommendations": "Training recommendations ({count})",
    "loop.adjustments": "Target adjustments ({count})",
    "loop.disconnects": "Disconnects ({count})",
    "loop.cross": "Cross report · {cycle}",
    "loop.misses": "Missed {count} periods in a row",
    "loop.accept": "Accept",
    "loop.dismiss": "Dismiss",
    "loop.accepted": "Accepted",
    "loop.dismissed": "Dismissed",
    "loop.hours": "{hours} hours",
    "loop.for": "{person} · because of {kpi}",
    "loop.target": "Target {from} → suggested {to} (attainment {attainment})",
    "loop.strength": "Strength {strength} · {periods} periods",
    "loop.threshold": "Threshold",
    "loop.unit": "Unit",
    "loop.okr": "OKR grade",
    "loop.kpi": "KPI score",
    "loop.combined": "Combined",
    "loop.lagging": "Lagging KPIs",
    "loop.alertCount": "Alerts",
    "loop.none": "Nothing waiting",
    "alertKind.consecutive_misses": "Consecutive misses",
    "disconnect.kpi_met_okr_flat": "KPI met, OKR flat",
    "disconnect.okr_improves_kpi_missed": "OKR improves, KPI missed",
    "evidence.mean_attainment": "Mean attainment",
    "evidence.spearman_rho": "Spearman's ρ",
    "evidence.theil_sen_slope": "Theil–Sen slope",
    "evidence.sign_p": "Sign test p",
    "evidence.mk_z": "Mann–Kendall z",
    "evidence.mk_p_increasing": "Mann–Kendall p (increasing)",
    "evidence.kpi_periods": "KPI periods",
  },
});

/** Missed periods ([{period, value, threshold}]) as a small chart against the threshold. */
function missesChart(evidence, title) {
  if (!Array.isArray(evidence) || !evidence.length || evidence[0].period == null) return null;
  const points = evidence.map((e) => ({ date: e.period, value: e.value }));
  const threshold = evidence[evidence.length - 1].threshold;
  const rule = [{ value: threshold, class: "threshold", label: t("loop.threshold") }];
  return h("div.mini", lineChart(points, rule, title, { width: 340, height: 150 }));
}

function decision(ctx, roles, id, accept, dismiss, done) {
  if (!ctx.can(...roles)) return null;
  const act = (name, document, message) => (event) =>
    busy(event.currentTarget, async () => {
      await mutate(name, document, { id });
      toast(message, "ok");
      done();
    });
  return h("div.actions",
    h("button.primary", { type: "button", dataset: { action: "accept", id },
      onclick: act(accept[0], accept[1], t("loop.accepted")) }, t("loop.accept")),
    h("button", { type: "button", dataset: { action: "dismiss", id },
      onclick: act(dismiss[0], dismiss[1], t("loop.dismissed")) }, t("loop.dismiss")));
}

function alertCard(alert) {
  const kpi = alert.kpi;
  return h("article.item", { dataset: { alert: alert.id } },
    h("header", h("a", { href: `#/trends/${encodeURIComponent(kpi.id)}` }, pick(kpi, "title")),
      h("span.muted", pick(kpi.owner, "name"))),
    h("p", `${t(`alertKind.${alert.kind}`)} · ${t("loop.misses", { count: alert.misses })} · ${date(alert.createdAt)}`),
    missesChart(alert.evidence, pick(kpi, "title")));
}

function recommendationCard(ctx, rec, done) {
  return h("article.item", { dataset: { recommendation: rec.id } },
    h("header", h("strong", pick(rec, "title")), h("span.tag", t("loop.hours", { hours: num(rec.hours, 1) }))),
    h("p", t("loop.for", { person: pick(rec.person, "name"), kpi: pick(rec.kpi, "title") })),
    missesChart(rec.evidence, pick(rec.kpi, "title")),
    decision(ctx, ["ADMIN", "CONSULTANT", "MANAGER", "EMPLOYEE"], rec.id,
      ["acceptRecommendation", ACCEPT_RECOMMENDATION], ["dismissRecommendation", DISMISS_RECOMMENDATION], done));
}

function adjustmentCard(ctx, adj, done) {
  return h("article.item", { dataset: { adjustment: adj.id } },
    h("header", h("strong", pick(adj.keyResult, "title")), h("span.muted", pick(adj.orgUnit, "name"))),
    h("p", t("loop.target", {
      from: num(adj.currentTarget), to: num(adj.suggestedTarget), attainment: pct(adj.attainment),
    })),
    h("p.reason", pick(adj, "reason")),
    decision(ctx, ["ADMIN", "CONSULTANT", "MANAGER"], adj.id,
      ["acceptAdjustment", ACCEPT_ADJUSTMENT], ["dismissAdjustment", DISMISS_ADJUSTMENT], done));
}

const EVIDENCE = [
  ["mean_attainment", (v) => pct(v, 1)],
  ["spearman_rho", (v) => num(v, 3)],
  ["theil_sen_slope", (v) => num(v, 4)],
  ["sign_p", (v) => num(v, 4)],
  ["mk_z", (v) => num(v, 3)],
  ["mk_p_increasing", (v) => num(v, 4)],
  ["kpi_periods", (v) => num(v, 0)],
];

function disconnectCard(d) {
  const evidence = d.evidence || {};
  return h("article.item", { dataset: { disconnect: d.kind } },
    h("header", h("strong", pick(d.objective, "title")), h("span.tag", t(`disconnect.${d.kind}`))),
    h("p",
      h("a", { href: `#/trends/${encodeURIComponent(d.kpi.id)}` }, pick(d.kpi, "title")), " ↔ ",
      h("a", { href: `#/trends/${encodeURIComponent(d.outcome.id)}` }, pick(d.outcome, "title"))),
    h("p.reason", pick(d.reason)),
    h("p.muted", t("loop.strength", { strength: num(d.strength, 2), periods: d.periods })),
    h("dl.evidence", EVIDENCE.filter(([key]) => evidence[key] != null).map(([key, format]) =>
      [h("dt", t(`evidence.${key}`)), h("dd", format(evidence[key]))])));
}

function stageLabel(stages, name) {
  return pick(stages.find((s) => s.name === name)?.label) || name;
}

function crossTable(report) {
  return table(
    [
      { label: t("loop.unit"), cell: (r) => pick(r.orgUnit, "name") },
      { label: t("loop.okr"), cell: (r) => num(r.okrGrade, 3), class: "num" },
      { label: t("loop.kpi"), cell: (r) => num(r.kpiScore, 3), class: "num" },
      { label: t("loop.combined"), cell: (r) => num(r.combinedScore, 3), class: "num" },
      { label: t("loop.lagging"), cell: (r) => r.laggingKpis.map((k) => pick(k, "title")).join("、") || "—" },
      { label: t("loop.alertCount"), cell: (r) => String(r.alerts), class: "num" },
    ],
    report.rows,
    { rowProps: (r) => ({ class: r.alerts || r.disconnects.length ? "attention" : "" }) }
  );
}

export default {
  nav: "loop",
  async render(root, ctx) {
    const draw = async () => {
      let data;
      let cross;
      try {
        [data, cross] = await Promise.all([gql(LOOP), gql(CROSS_REPORT)]);
      } catch (error) {
        return failed(root, error, draw);
      }
      const report = cross.crossReport;
      const list = (items, render) => (items.length ? h("div.items", items.map(render)) : h("p.empty", t("loop.none")));
      show(
        root,
        section(t("loop.alerts", { count: data.alerts.length }), list(data.alerts, alertCard)),
        section(t("loop.recommendations", { count: data.recommendations.length }),
          list(data.recommendations, (r) => recommendationCard(ctx, r, draw))),
        section(t("loop.adjustments", { count: data.adjustments.length }),
          list(data.adjustments, (a) => adjustmentCard(ctx, a, draw))),
        section(t("loop.disconnects", { count: report.disconnects.length }), list(report.disconnects, disconnectCard)),
        section(t("loop.cross", { cycle: report.cycleName }),
          h("p.muted", `${stageLabel(cross.lifecycleStages, report.stage)} · ` +
            `OKR ${pct(report.okrShare)} · KPI ${pct(report.kpiShare)}`),
          crossTable(report))
      );
      return undefined;
    };
    await draw();
    return undefined;
  },
};

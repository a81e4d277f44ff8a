// A unit's or a person's scorecard: OKR grade, KPI score, the stage's shares and the
// combined score, as of now or any earlier day (asOf); for a unit also its ranking.

import { t, texts, pick, num, pct } from "./i18n.js";
import { gql } from "./gql.js";
import { PICKERS, PEOPLE_SEARCH, SCORECARD, UNIT_SCORECARD } from "./queries.js";
import { h, show, failed, table, healthBadge } from "./dom.js";

texts({
  zh: {
    "sc.unit": "部门",
    "sc.person": "个人",
    "sc.asOf": "截至日期",
    "sc.okr": "OKR 评分",
    "sc.kpi": "KPI 得分",
    "sc.combined": "综合绩效",
    "sc.stage": "阶段 {stage}：OKR {okr} · KPI {kpi}",
    "sc.formula": "{okr} × {grade} + {kpi} × {score} = {combined}",
    "sc.cycle": "周期",
    "sc.frozen": "周期已关闭，得分已冻结",
    "sc.ranking": "排名",
    "sc.rank": "名次",
    "sc.name": "姓名",
    "sc.objectives": "目标",
    "sc.kpis": "KPI",
    "sc.keyResults": "关键结果",
    "sc.grade": "评分",
    "sc.score": "得分",
    "sc.choose": "选择部门或个人",
    "sc.oneSide": "只有 OKR 或只有 KPI 时，综合绩效取有的那一项。",
    "sc.cyclePick": "考核周期",
    "sc.currentCycle": "当前周期",
    "sc.closed": "（已关闭）",
    "sc.findPerson": "搜索姓名、邮箱或工号",
  },
  en: {
    "sc.unit": "Unit",
    "sc.person": "Person",
    "sc.asOf": "As of",
    "sc.okr": "OKR grade",
    "sc.kpi": "KPI score",
    "sc.combined": "Combined",
    "sc.stage": "Stage {stage}: OKR {okr} · KPI {kpi}",
    "sc.formula": "{okr} × {grade} + {kpi} × {score} = {combined}",
    "sc.cycle": "Cycle",
    "sc.frozen": "The cycle is closed; its scores are frozen",
    "sc.ranking": "Ranking",
    "sc.rank": "Rank",
    "sc.name": "Name",
    "sc.objectives": "Objectives",
    "sc.kpis": "KPIs",
    "sc.keyResults": "Key results",
    "sc.grade": "Grade",
    "sc.score": "Score",
    "sc.choose": "Choose a unit or a person",
    "sc.oneSide": "With only OKR or only KPI, the combined score is the one there is.",
    "sc.cyclePick": "Cycle",
    "sc.currentCycle": "Current cycle",
    "sc.closed": " (closed)",
    "sc.findPerson": "Search name, email or employee no.",
  },
});

/** The day and cycle chosen last, kept while moving between units and people. */
let lastAsOf = "";
let lastCycle = "";

function figures(card) {
  return h(
    "div.figures",
    [
      [t("sc.okr"), num(card.okrGrade, 3)],
      [t("sc.kpi"), num(card.kpiScore, 3)],
      [t("sc.combined"), num(card.combinedScore, 3)],
    ].map(([label, value]) => h("div.figure", h("span.label", label), h("span.big", value))),
  );
}

function summary(card, stageLabel) {
  const both = card.okrGrade != null && card.kpiScore != null;
  const whose = card.person || card.orgUnit;
  return [
    h("h2.whose", pick(whose, "name"), card.person?.jobTitle ? h("span.muted", ` · ${card.person.jobTitle}`) : null),
    h("p.muted", `${t("sc.cycle")}: ${pick(card.cycle, "name")} · ` +
      t("sc.stage", { stage: stageLabel(card.stage), okr: pct(card.okrShare), kpi: pct(card.kpiShare) })),
    both
      ? h("p.formula", t("sc.formula", {
          okr: num(card.okrShare), grade: num(card.okrGrade, 3),
          kpi: num(card.kpiShare), score: num(card.kpiScore, 3), combined: num(card.combinedScore, 3),
        }))
      : h("p.muted", t("sc.oneSide")),
    card.frozen ? h("p.notice", t("sc.frozen")) : null,
    figures(card),
  ];
}

function details(card) {
  const graded = (label, rows, goal) => [
    h("h3", label),
    table(
      [
        { label, cell: (row) => pick(goal(row), "title") },
        { label: t("sc.grade"), cell: (row) => num(row.grade, 3), class: "num" },
      ],
      rows
    ),
  ];
  return [
    card.objectives.length || !card.keyResults.length
      ? graded(t("sc.objectives"), card.objectives, (o) => o.objective)
      : null,
    card.keyResults.length ? graded(t("sc.keyResults"), card.keyResults, (k) => k.keyResult) : null,
    h("h3", t("sc.kpis")),
    table(
      [
        { label: "KPI", cell: (k) => h("a", { href: `#/trends/${encodeURIComponent(k.kpi.id)}` }, pick(k.kpi, "title")) },
        { label: t("sc.score"), cell: (k) => num(k.score, 3), class: "num" },
        { label: "", cell: (k) => healthBadge(k.kpi.health) },
      ],
      card.kpis
    ),
  ];
}

export default {
  nav: "scorecards",
  async render(root, ctx, [kind, id]) {
    const pickers = await ctx.load(root, PICKERS);
    if (!pickers) return undefined;
    const units = pickers.orgUnits.edges.map((e) => e.node);
    const stageLabel = (name) =>
      pick(pickers.lifecycleStages.find((s) => s.name === name)?.label) || name;
    const people = pickers.people.edges.map((e) => e.node);
    const mine = ctx.viewer.person;
    const chosen = {
      kind: kind || (mine ? "person" : "unit"),
      id: id || (mine ? mine.id : units[0]?.id),
    };
    const unitSelect = h("select", { name: "unit", "aria-label": t("sc.unit") },
      h("option", { value: "" }, "—"),
      units.map((u) => h("option", { value: u.id, selected: chosen.kind === "unit" && u.id === chosen.id },
        `${"  ".repeat(u.depth)}${pick(u, "name")}`)));
    const personOptions = (list) => [
      h("option", { value: "" }, "—"),
      list.map((p) => h("option", { value: p.id, selected: chosen.kind === "person" && p.id === chosen.id },
        `${pick(p, "name")}${p.jobTitle ? " · " + p.jobTitle : ""}`)),
    ];
    const personSelect = h("select", { name: "person", "aria-label": t("sc.person") }, personOptions(people));
    if (chosen.kind === "person" && chosen.id && !people.some((p) => p.id === chosen.id)) {
      // someone found by search or linked from a ranking: name them in the picker too
      const name = mine?.id === chosen.id ? pick(mine, "name") : "…";
      personSelect.append(h("option", { value: chosen.id, selected: true }, name));
    }
    let searchTimer = null;
    const personSearch = h("input", {
      type: "search", name: "personSearch", placeholder: t("sc.findPerson"), "aria-label": t("sc.findPerson"),
      oninput: () => {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(async () => {
          const text = personSearch.value.trim();
          const found = text
            ? (await gql(PEOPLE_SEARCH, { search: text })).people.edges.map((e) => e.node)
            : people;
          show(personSelect, personOptions(found));
        }, 200);
      },
    });
    const cycles = pickers.cycles.edges.map((e) => e.node)
      .sort((a, b) => b.startsOn.localeCompare(a.startsOn));
    const cycleSelect = h("select", { name: "cycle", "aria-label": t("sc.cyclePick") },
      h("option", { value: "" }, t("sc.currentCycle")),
      cycles.map((c) => h("option", { value: c.id, selected: c.id === lastCycle },
        `${pick(c, "name")}${c.closed ? t("sc.closed") : ""}`)));
    const asOf = h("input", {
      type: "date", name: "asOf", value: lastAsOf, max: new Date().toISOString().slice(0, 10),
    });
    const body = h("div.scorecard");

    async function draw() {
      show(body, h("p.loading", t("loading")));
      // the end of the chosen day, in the browser's time zone
      const when = asOf.value ? new Date(`${asOf.value}T23:59:59`).toISOString() : null;
      const cycleId = cycleSelect.value || null;
      try {
        if (chosen.kind === "unit" && chosen.id) {
          const data = await gql(UNIT_SCORECARD, { orgUnitId: chosen.id, cycleId, asOf: when });
          show(body, summary(data.scorecard, stageLabel),
            h("h3", t("sc.ranking")),
            table(
              [
                { label: t("sc.rank"), cell: (r) => r.rank ?? "—", class: "num" },
                { label: t("sc.name"), cell: (r) => h("a", { href: `#/scorecards/person/${encodeURIComponent(r.person.id)}` }, pick(r.person, "name")) },
                { label: t("sc.okr"), cell: (r) => num(r.scorecard.okrGrade, 3), class: "num" },
                { label: t("sc.kpi"), cell: (r) => num(r.scorecard.kpiScore, 3), class: "num" },
                { label: t("sc.combined"), cell: (r) => num(r.scorecard.combinedScore, 3), class: "num" },
              ],
              data.ranking
            ),
            details(data.scorecard));
        } else if (chosen.kind === "person" && chosen.id) {
          const data = await gql(SCORECARD, { personId: chosen.id, cycleId, asOf: when });
          show(body, summary(data.scorecard, stageLabel), details(data.scorecard));
        } else {
          show(body, h("p.empty", t("sc.choose")));
        }
      } catch (error) {
        failed(body, error, draw);
      }
    }

    unitSelect.addEventListener("change", () => {
      if (unitSelect.value) ctx.navigate(`scorecards/unit/${encodeURIComponent(unitSelect.value)}`);
    });
    personSelect.addEventListener("change", () => {
      if (personSelect.value) ctx.navigate(`scorecards/person/${encodeURIComponent(personSelect.value)}`);
    });
    asOf.addEventListener("change", () => {
      lastAsOf = asOf.value;
      draw();
    });
    cycleSelect.addEventListener("change", () => {
      lastCycle = cycleSelect.value;
      draw();
    });
    show(
      root,
      h("section.card",
        h("div.toolbar.wrap",
          h("label.inline", t("sc.unit"), unitSelect),
          h("label.inline", t("sc.person"), personSearch, personSelect),
          h("label.inline", t("sc.cyclePick"), cycleSelect),
          h("label.inline", t("sc.asOf"), asOf)),
        body)
    );
    await draw();
    return undefined;
  },
};

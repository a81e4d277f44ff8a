// The tenant's lifecycle stage and the OKR/KPI weighting of each stage. An admin picks
// another stage, previews who moves up or down (simulateWeighting, nothing saved) and
// only then applies it; every other role sees the same figures read-only.

import { t, texts, pick, num, pct } from "./i18n.js";
import { gql, mutate } from "./gql.js";
import { STAGES, SIMULATE, SIMULATE_SHARES, SET_STAGE, SET_WEIGHTING } from "./queries.js";
import { h, show, table, toast, busy } from "./dom.js";

texts({
  zh: {
    "stage.current": "当前阶段：{stage}",
    "stage.weightings": "各阶段权重",
    "stage.stage": "阶段",
    "stage.okr": "OKR 占比",
    "stage.kpi": "KPI 占比",
    "stage.custom": "自定义",
    "stage.pack": "来自行业包",
    "stage.switchTo": "切换到",
    "stage.preview": "预览影响",
    "stage.apply": "确认切换",
    "stage.applied": "已切换到{stage}",
    "stage.readOnly": "只有管理员可以切换阶段。",
    "stage.people": "个人",
    "stage.units": "部门",
    "stage.before": "切换前",
    "stage.after": "切换后",
    "stage.change": "变化",
    "stage.rank": "名次",
    "stage.summary": "{before} → {after}：OKR {okrBefore} → {okrAfter}，KPI {kpiBefore} → {kpiAfter}",
    "stage.up": "上升 {count} 人，下降 {down} 人",
    "stage.same": "已是当前阶段",
    "stage.sharesOf": "调整{stage}的权重",
    "stage.previewShares": "预览新权重",
    "stage.applyShares": "保存权重",
    "stage.sharesSaved": "{stage}的权重已保存",
    "stage.badShare": "OKR 占比应在 0 到 100 之间",
  },
  en: {
    "stage.current": "Current stage: {stage}",
    "stage.weightings": "Weighting by stage",
    "stage.stage": "Stage",
    "stage.okr": "OKR share",
    "stage.kpi": "KPI share",
    "stage.custom": "Custom",
    "stage.pack": "From pack",
    "stage.switchTo": "Switch to",
    "stage.preview": "Preview",
    "stage.apply": "Apply the switch",
    "stage.applied": "Switched to {stage}",
    "stage.readOnly": "Only admins switch the stage.",
    "stage.people": "People",
    "stage.units": "Units",
    "stage.before": "Before",
    "stage.after": "After",
    "stage.change": "Change",
    "stage.rank": "Rank",
    "stage.summary": "{before} → {after}: OKR {okrBefore} → {okrAfter}, KPI {kpiBefore} → {kpiAfter}",
    "stage.up": "{count} move up, {down} move down",
    "stage.same": "Already the current stage",
    "stage.sharesOf": "Weighting of {stage}",
    "stage.previewShares": "Preview these shares",
    "stage.applyShares": "Save the weighting",
    "stage.sharesSaved": "Weighting of {stage} saved",
    "stage.badShare": "The OKR share is between 0 and 100",
  },
});

function delta(before, after) {
  if (before == null || after == null) return h("span", "—");
  const d = after - before;
  const sign = d > 0.0005 ? "up" : d < -0.0005 ? "down" : "flat";
  return h(`span.delta.${sign}`, sign === "flat" ? "0" : `${d > 0 ? "+" : ""}${num(d, 3)}`);
}

function rankMove(before, after) {
  if (before == null || after == null) return "—";
  const moved = before - after;
  const arrow = moved > 0 ? `↑${moved}` : moved < 0 ? `↓${-moved}` : "=";
  return h(`span.rank.${moved > 0 ? "up" : moved < 0 ? "down" : "flat"}`, `${before} → ${after} ${arrow}`);
}

function movesTable(title, rows, nameOf) {
  const sorted = [...rows].sort((a, b) => (b.after ?? -1) - (b.before ?? -1) - ((a.after ?? -1) - (a.before ?? -1)));
  return table(
    [
      { label: title, cell: nameOf },
      { label: t("stage.before"), cell: (r) => num(r.before, 3), class: "num" },
      { label: t("stage.after"), cell: (r) => num(r.after, 3), class: "num" },
      { label: t("stage.change"), cell: (r) => delta(r.before, r.after), class: "num" },
      { label: t("stage.rank"), cell: (r) => rankMove(r.rankBefore, r.rankAfter) },
    ],
    sorted
  );
}

export default {
  nav: "stage",
  async render(root, ctx) {
    const data = await ctx.load(root, STAGES);
    if (!data) return undefined;
    const stages = data.lifecycleStages;
    const label = (name) => pick(stages.find((s) => s.name === name)?.label) || name;
    const current = data.tenant.lifecycleStage;
    const company = data.orgUnits.edges[0]?.node;
    const weightings = new Map(data.tenant.weightings.map((w) => [w.stage, w]));
    const isAdmin = ctx.can("ADMIN");

    const preview = h("div.preview.stage-preview");
    const select = h("select", { name: "stage", "aria-label": t("stage.switchTo"), disabled: !isAdmin },
      stages.map((s) => h("option", { value: s.name, selected: s.name === current }, pick(s.label))));
    const previewButton = h("button", { type: "button", disabled: !isAdmin }, t("stage.preview"));

    /** Who moves under `sim`, with the button that makes it so. */
    function showMoves(into, sim, applyLabel, applyIt) {
      const up = sim.people.filter((p) => p.rankBefore != null && p.rankAfter < p.rankBefore).length;
      const down = sim.people.filter((p) => p.rankBefore != null && p.rankAfter > p.rankBefore).length;
      const apply = h("button.primary", { type: "button", dataset: { action: "apply" } }, applyLabel);
      apply.addEventListener("click", () => busy(apply, async () => {
        await applyIt();
        ctx.refresh();
      }));
      show(
        into,
        h("p.summary", t("stage.summary", {
          before: label(sim.stageBefore), after: label(sim.stageAfter),
          okrBefore: pct(sim.okrShareBefore), okrAfter: pct(sim.okrShareAfter),
          kpiBefore: pct(sim.kpiShareBefore), kpiAfter: pct(sim.kpiShareAfter),
        })),
        h("p", t("stage.up", { count: up, down })),
        apply,
        h("h3", t("stage.units")),
        movesTable(t("stage.units"), sim.units, (r) => pick(r.orgUnit, "name")),
        h("h3", t("stage.people")),
        movesTable(t("stage.people"), sim.people, (r) => pick(r.person, "name")),
      );
    }

    previewButton.addEventListener("click", () => busy(previewButton, async () => {
      const target = select.value;
      if (target === current) return show(preview, h("p.muted", t("stage.same")));
      const sim = (await gql(SIMULATE, { orgUnitId: company.id, stage: target })).simulateWeighting;
      showMoves(preview, sim, t("stage.apply"), async () => {
        await mutate("setLifecycleStage", SET_STAGE, { stage: target });
        toast(t("stage.applied", { stage: label(target) }), "ok");
      });
    }));

    // the current stage's own shares: previewed the same way, saved with setStageWeighting
    const shares = weightings.get(current) || { okrShare: 0.5, kpiShare: 0.5 };
    const okrInput = h("input", {
      type: "number", name: "okrShare", min: "0", max: "100", step: "5",
      value: String(Math.round(shares.okrShare * 100)), disabled: !isAdmin,
    });
    const kpiText = h("span.muted");
    const syncKpi = () => {
      kpiText.textContent = `KPI ${num(100 - Number(okrInput.value || 0), 0)}%`;
    };
    okrInput.addEventListener("input", syncKpi);
    syncKpi();
    const sharesPreview = h("div.preview.shares-preview");
    const sharesButton = h("button", { type: "button", disabled: !isAdmin }, t("stage.previewShares"));
    sharesButton.addEventListener("click", () => busy(sharesButton, async () => {
      const okr = Number(okrInput.value) / 100;
      if (!(okr >= 0 && okr <= 1)) return toast(t("stage.badShare"), "error");
      const kpi = Math.round((1 - okr) * 100) / 100;
      const sim = (await gql(SIMULATE_SHARES, {
        orgUnitId: company.id, stage: current, okrShare: okr, kpiShare: kpi,
      })).simulateWeighting;
      showMoves(sharesPreview, sim, t("stage.applyShares"), async () => {
        await mutate("setStageWeighting", SET_WEIGHTING, { stage: current, okrShare: okr, kpiShare: kpi });
        toast(t("stage.sharesSaved", { stage: label(current) }), "ok");
      });
    }));

    show(
      root,
      h("section.card",
        h("h2", t("stage.current", { stage: label(current) })),
        h("h3", t("stage.weightings")),
        table(
          [
            { label: t("stage.stage"), cell: (s) => pick(s.label) },
            { label: t("stage.okr"), cell: (s) => pct(weightings.get(s.name)?.okrShare ?? s.okrShare), class: "num" },
            { label: t("stage.kpi"), cell: (s) => pct(weightings.get(s.name)?.kpiShare ?? s.kpiShare), class: "num" },
            { label: "", cell: (s) => [
              weightings.get(s.name)?.custom ? h("span.tag", t("stage.custom")) : null,
              s.pack ? h("span.tag", `${t("stage.pack")} ${s.pack}`) : null,
            ] },
          ],
          stages,
          { rowProps: (s) => ({ class: s.name === current ? "current" : "" }) }
        )),
      h("section.card",
        h("h2", t("stage.switchTo")),
        isAdmin ? null : h("p.notice", t("stage.readOnly")),
        h("div.toolbar", select, previewButton),
        preview),
      h("section.card",
        h("h2", t("stage.sharesOf", { stage: label(current) })),
        h("div.toolbar", h("label.inline", "OKR %", okrInput), kpiText, sharesButton),
        sharesPreview)
    );
    return undefined;
  },
};

// Industry packs, for consultants and admins: what is installed, which lifecycle stages
// each is enabled in, its KPI templates, and a KPI created from a template for a unit
// or a person.

import { t, texts, pick, num } from "./i18n.js";
import { gql, mutate } from "./gql.js";
import { PACKS, KPI_TEMPLATES, ENABLE_PACK, DISABLE_PACK, CREATE_KPI_FROM_TEMPLATE } from "./queries.js";
import { h, show, failed, table, toast, busy, section } from "./dom.js";

texts({
  zh: {
    "packs.installed": "已安装的行业包",
    "packs.active": "已启用",
    "packs.inactive": "未启用",
    "packs.broken": "加载失败：{error}",
    "packs.stages": "启用阶段",
    "packs.enable": "保存启用阶段",
    "packs.disable": "停用",
    "packs.enabled": "{pack} 已在所选阶段启用",
    "packs.disabled": "{pack} 已停用",
    "packs.templates": "{pack} 的 KPI 模板",
    "packs.showTemplates": "查看模板（{count}）",
    "packs.code": "代码",
    "packs.name": "名称",
    "packs.level": "层级",
    "packs.target": "目标值",
    "packs.threshold": "及格线",
    "packs.create": "创建 KPI",
    "packs.owner": "负责部门",
    "packs.ownerPerson": "负责人",
    "packs.created": "已创建 KPI：{title}",
    "packs.chooseStages": "至少选择一个阶段",
  },
  en: {
    "packs.installed": "Installed packs",
    "packs.active": "Enabled",
    "packs.inactive": "Not enabled",
    "packs.broken": "Failed to load: {error}",
    "packs.stages": "Enabled in stages",
    "packs.enable": "Save stages",
    "packs.disable": "Disable",
    "packs.enabled": "{pack} enabled in the chosen stages",
    "packs.disabled": "{pack} disabled",
    "packs.templates": "KPI templates of {pack}",
    "packs.showTemplates": "Templates ({count})",
    "packs.code": "Code",
    "packs.name": "Name",
    "packs.level": "Level",
    "packs.target": "Target",
    "packs.threshold": "Threshold",
    "packs.create": "Create KPI",
    "packs.owner": "Owning unit",
    "packs.ownerPerson": "Owner",
    "packs.created": "KPI created: {title}",
    "packs.chooseStages": "Choose at least one stage",
  },
});

function packCard(pack, stages, ctx, showTemplates) {
  const boxes = stages.map((s) =>
    h("label.check", h("input", { type: "checkbox", value: s.name, checked: pack.enabledStages.includes(s.name) }),
      pick(s.label)));
  const enable = h("button.primary", { type: "button", dataset: { action: "enable", pack: pack.name } }, t("packs.enable"));
  enable.addEventListener("click", () => busy(enable, async () => {
    const chosen = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    if (!chosen.length) return toast(t("packs.chooseStages"), "error");
    await mutate("enablePack", ENABLE_PACK, { name: pack.name, stages: chosen });
    toast(t("packs.enabled", { pack: pick(pack.title) || pack.name }), "ok");
    ctx.refresh();
  }));
  const disable = h("button", { type: "button", disabled: !pack.active }, t("packs.disable"));
  disable.addEventListener("click", () => busy(disable, async () => {
    await mutate("disablePack", DISABLE_PACK, { name: pack.name });
    toast(t("packs.disabled", { pack: pick(pack.title) || pack.name }), "ok");
    ctx.refresh();
  }));
  return h("article.item", { dataset: { pack: pack.name } },
    h("header", h("strong", pick(pack.title) || pack.name), h("span.muted", `${pack.name} ${pack.version || ""}`),
      h(`span.tag${pack.active ? ".on" : ""}`, pack.active ? t("packs.active") : t("packs.inactive"))),
    pack.error ? h("p.problem", t("packs.broken", { error: pack.error })) : null,
    h("p.muted", pack.industries.join(" · ")),
    h("fieldset", h("legend", t("packs.stages")), boxes),
    h("div.actions", enable, disable,
      h("button.link", { type: "button", onclick: () => showTemplates(pack) },
        t("packs.showTemplates", { count: pack.kpiTemplateCount }))));
}

function createForm(template, units, people, done) {
  const personal = template.level === "person";
  const owner = personal
    ? h("select", { name: "ownerPerson", "aria-label": t("packs.ownerPerson") },
        people.map((p) => h("option", { value: p.id }, pick(p, "name"))))
    : h("select", { name: "ownerUnit", "aria-label": t("packs.owner") },
        units.map((u) => h("option", { value: u.id, selected: template.level === u.kind.toLowerCase() },
          `${"  ".repeat(u.depth)}${pick(u, "name")}`)));
  const target = h("input", { type: "number", step: "any", name: "target", value: String(template.defaultTarget) });
  const threshold = h("input", { type: "number", step: "any", name: "threshold", value: String(template.defaultThreshold) });
  const submit = h("button.primary", { type: "submit" }, t("packs.create"));
  return h("form.inline-form", {
    onsubmit: (event) => {
      event.preventDefault();
      busy(submit, async () => {
        const input = {
          pack: template.pack,
          code: template.code,
          target: target.value === "" ? null : Number(target.value),
          threshold: threshold.value === "" ? null : Number(threshold.value),
          [personal ? "ownerPersonId" : "ownerUnitId"]: owner.value,
        };
        const payload = await mutate("createKpiFromTemplate", CREATE_KPI_FROM_TEMPLATE, { input });
        toast(t("packs.created", { title: pick(payload.kpi, "title") }), "ok");
        done();
      });
    },
  },
  h("label.inline", personal ? t("packs.ownerPerson") : t("packs.owner"), owner),
  h("label.inline", t("packs.target"), target),
  h("label.inline", t("packs.threshold"), threshold),
  submit);
}

export default {
  nav: "packs",
  roles: ["ADMIN", "CONSULTANT"],
  async render(root, ctx) {
    const data = await ctx.load(root, PACKS);
    if (!data) return undefined;
    const units = data.orgUnits.edges.map((e) => e.node);
    const people = data.people.edges.map((e) => e.node);
    const templates = h("div.templates");

    async function showTemplates(pack) {
      show(templates, h("p.loading", t("loading")));
      try {
        const list = (await gql(KPI_TEMPLATES, { pack: pack.name })).kpiTemplates;
        const forms = h("div");
        show(templates, section(t("packs.templates", { pack: pick(pack.title) || pack.name }),
          table(
            [
              { label: t("packs.code"), cell: (k) => h("code", k.code) },
              { label: t("packs.name"), cell: (k) => [pick(k.name), k.description ? h("div.muted", pick(k.description)) : null] },
              { label: t("packs.level"), cell: (k) => k.level },
              { label: t("packs.target"), cell: (k) => `${num(k.defaultTarget)} ${k.unit}`, class: "num" },
              { label: t("packs.threshold"), cell: (k) => num(k.defaultThreshold), class: "num" },
              { label: "", cell: (k) => h("button", { type: "button", dataset: { template: k.code },
                onclick: () => show(forms, h("h3", pick(k.name)), createForm(k, units, people, () => show(forms))) },
                t("packs.create")) },
            ],
            list
          ),
          forms));
      } catch (error) {
        failed(templates, error);
      }
    }

    show(root,
      section(t("packs.installed"),
        h("div.items", data.packs.map((p) => packCard(p, data.lifecycleStages, ctx, showTemplates)))),
      templates);
    return undefined;
  },
};

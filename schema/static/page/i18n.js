// The page's texts in Chinese and English, and the numbers and dates of both.
// Chinese is the default; the choice is kept in localStorage. Data from the API comes
// with both languages (title/titleEn, name/nameEn, label{zh en}) and pick() chooses.

const KEY = "goalgraph.lang";
const TEXTS = { zh: {}, en: {} };
const listeners = new Set();

export let lang = localStorage.getItem(KEY) || "zh";

/** Registers texts: texts({ zh: {key: "…"}, en: {key: "…"} }); each module adds its own. */
export function texts(table) {
  Object.assign(TEXTS.zh, table.zh);
  Object.assign(TEXTS.en, table.en);
}

/** The text of key in the current language, with {name} placeholders filled. */
export function t(key, values = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** The current language's half of a bilingual value: an object's field and its `En`
 *  twin (pick(node, "title")), or a LocalizedText {zh, en}. */
export function pick(value, field) {
  if (value == null) return "";
  if (field === undefined) return (lang === "en" ? value.en : value.zh) || value.zh || "";
  const en = value[field + "En"];
  return lang === "en" && en ? en : value[field] ?? "";
}

export function setLang(next) {
  lang = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next === "en" ? "en" : "zh-CN";
  for (const listener of listeners) listener(next);
}

export function onLang(listener) {
  listeners.add(listener);
}

/** The Accept-Language header, so the API's error messages speak the page's language. */
export const acceptLanguage = () => (lang === "en" ? "en" : "zh-CN");

const locale = () => (lang === "en" ? "en-US" : "zh-CN");

/** A number with at most `digits` decimals, or "—" when there is none. */
export function num(value, digits = 2) {
  if (value == null || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

/** A share 0..1 as a percentage. */
export function pct(value, digits = 0) {
  if (value == null || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(locale(), {
    style: "percent",
    maximumFractionDigits: digits,
  }).format(value);
}

export function date(value) {
  if (!value) return "—";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(new Date(value));
}

document.documentElement.lang = lang === "en" ? "en" : "zh-CN";

texts({
  zh: {
    "nav.tree": "目标树",
    "nav.scorecards": "绩效卡",
    "nav.trends": "趋势",
    "nav.stage": "阶段与权重",
    "nav.loop": "闭环",
    "nav.packs": "行业包",
    "lang.switch": "English",
    "signout": "退出",
    "signin.title": "登录 goalgraph",
    "signin.tenant": "企业代码",
    "signin.email": "邮箱",
    "signin.password": "密码",
    "signin.submit": "登录",
    "signin.sso": "单点登录",
    "signin.token": "或粘贴访问令牌（goalgraph token）",
    "signin.useToken": "使用令牌",
    "signin.expired": "登录已过期，请重新登录。",
    "live.on": "实时",
    "live.off": "重连中…",
    "loading": "加载中…",
    "empty": "暂无数据",
    "error": "出错了：{message}",
    "retry": "重试",
    "health.ON_TRACK": "正常",
    "health.AT_RISK": "有风险",
    "health.MISSED": "未达成",
    "health.none": "无数据",
    "kind.OBJECTIVE": "目标",
    "kind.KEY_RESULT": "关键结果",
    "kind.KPI": "KPI",
    "role.ADMIN": "管理员",
    "role.CONSULTANT": "顾问",
    "role.MANAGER": "经理",
    "role.EMPLOYEE": "员工",
    "role.VIEWER": "访客",
    "alert.new": "新预警：{title}",
  },
  en: {
    "nav.tree": "Goal tree",
    "nav.scorecards": "Scorecards",
    "nav.trends": "Trends",
    "nav.stage": "Stage & weighting",
    "nav.loop": "The loop",
    "nav.packs": "Packs",
    "lang.switch": "中文",
    "signout": "Sign out",
    "signin.title": "Sign in to goalgraph",
    "signin.tenant": "Company code",
    "signin.email": "Email",
    "signin.password": "Password",
    "signin.submit": "Sign in",
    "signin.sso": "Single sign-on",
    "signin.token": "Or paste an access token (goalgraph token)",
    "signin.useToken": "Use token",
    "signin.expired": "Your session has ended; please sign in again.",
    "live.on": "Live",
    "live.off": "Reconnecting…",
    "loading": "Loading…",
    "empty": "Nothing here yet",
    "error": "Something went wrong: {message}",
    "retry": "Retry",
    "health.ON_TRACK": "On track",
    "health.AT_RISK": "At risk",
    "health.MISSED": "Missed",
    "health.none": "No data",
    "kind.OBJECTIVE": "Objective",
    "kind.KEY_RESULT": "Key result",
    "kind.KPI": "KPI",
    "role.ADMIN": "Admin",
    "role.CONSULTANT": "Consultant",
    "role.MANAGER": "Manager",
    "role.EMPLOYEE": "Employee",
    "role.VIEWER": "Viewer",
    "alert.new": "New alert: {title}",
  },
});

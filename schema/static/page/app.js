// The page's shell: signing in, the header, the tabs and a router over the fragment
// (#/tree, #/scorecards, #/trends/<kpi id>, #/stage, #/loop, #/packs). Each view is a
// module exporting {nav, roles, render(root, ctx, params)}; render may return a
// cleanup function, called when the view is left (it ends the view's subscriptions).

import { t, texts, lang, setLang, onLang, pick } from "./i18n.js";
import { gql, mutate, session, whenSignedOut, onLiveChange, subscribe, closeAll, signOut } from "./gql.js";
import { VIEWER, SIGN_IN, ALERTS } from "./queries.js";
import { h, show, toast, failed } from "./dom.js";
import tree from "./tree.js";
import scorecards from "./scorecards.js";
import trends from "./trends.js";
import stage from "./stage.js";
import loop from "./loop.js";
import packs from "./packs.js";

const VIEWS = { tree, scorecards, trends, stage, loop, packs };
const root = document.getElementById("view");
let viewer = null;
let cleanup = null;
let stopAlerts = null;
let unseenAlerts = 0;

texts({
  zh: { "alerts.badge": "{count} 条新预警" },
  en: { "alerts.badge": "{count} new alerts" },
});

/** What a view may ask of the shell. */
const ctx = {
  get viewer() {
    return viewer;
  },
  navigate(path) {
    location.hash = `#/${path}`;
  },
  /** Draws the current view again (after a change it shows, or to retry a failure;
   *  navigating to the route it is on would not, as the fragment does not change). */
  refresh() {
    renderView();
  },
  /** The data of `document`, or null once `into` shows the failure with a retry. */
  async load(into, document, variables = {}) {
    try {
      return await gql(document, variables);
    } catch (error) {
      failed(into, error, () => renderView());
      return null;
    }
  },
  /** Whether the caller has one of `roles`. */
  can(...roles) {
    return viewer != null && roles.includes(viewer.role);
  },
};

// --- signing in ------------------------------------------------------------------

/** A #token=…&refresh_token=… fragment (goalgraph token's link, single sign-on's return)
 *  signs the page in; the fragment never reaches a server, and is cleared at once. */
function takeFragmentToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (!token) return;
  session.save(token, params.get("refresh_token"));
  history.replaceState(null, "", location.pathname + location.search + "#/tree");
}

function signInForm() {
  const remembered = localStorage.getItem("goalgraph.tenant") || "";
  const tenant = h("input", { name: "tenant", value: remembered, required: true, autocomplete: "organization" });
  const email = h("input", { name: "email", type: "email", required: true, autocomplete: "username" });
  const password = h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" });
  const pasted = h("textarea", { name: "token", rows: 3, spellcheck: false });
  const submit = h("button", { type: "submit" }, t("signin.submit"));
  const problem = h("p.problem", { role: "alert" });

  const form = h(
    "form.card.signin",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        problem.textContent = "";
        submit.disabled = true;
        try {
          const payload = await mutate("signIn", SIGN_IN, {
            tenant: tenant.value.trim(),
            email: email.value.trim(),
            password: password.value,
          });
          localStorage.setItem("goalgraph.tenant", tenant.value.trim());
          session.save(payload.session.accessToken, payload.session.refreshToken);
          await boot();
        } catch (error) {
          problem.textContent = error.message;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", t("signin.title")),
    h("label", t("signin.tenant"), tenant),
    h("label", t("signin.email"), email),
    h("label", t("signin.password"), password),
    problem,
    submit,
    h("div.sso", h("span", t("signin.sso")),
      ["oidc", "feishu", "dingtalk", "wecom"].map((kind) =>
        h("button.link", {
          type: "button",
          dataset: { sso: kind },
          onclick: () => {
            if (!tenant.reportValidity()) return;
            location.href = `/auth/${encodeURIComponent(tenant.value.trim())}/${kind}/login`;
          },
        }, { oidc: "OIDC", feishu: "飞书 Feishu", dingtalk: "钉钉 DingTalk", wecom: "企业微信 WeCom" }[kind])
      )),
    h("details.paste", h("summary", t("signin.token")), pasted,
      h("button", {
        type: "button",
        onclick: async () => {
          if (!pasted.value.trim()) return;
          session.save(pasted.value.trim(), null);
          await boot();
        },
      }, t("signin.useToken")))
  );
  return form;
}

function showSignIn(message) {
  leaveView();
  viewer = null;
  document.getElementById("tabs").hidden = true;
  document.getElementById("signout").hidden = true;
  document.getElementById("tenant").textContent = "";
  show(root, message ? h("p.notice", message) : null, signInForm());
}

// --- the shell -------------------------------------------------------------------

function renderTabs() {
  const tabs = document.getElementById("tabs");
  const current = route().name;
  show(
    tabs,
    Object.entries(VIEWS)
      .filter(([, view]) => !view.roles || ctx.can(...view.roles))
      .map(([name]) =>
        h("a", { href: `#/${name}`, class: name === current ? "active" : "", dataset: { tab: name } },
          t(`nav.${name}`),
          name === "loop" && unseenAlerts
            ? h("span.count", { title: t("alerts.badge", { count: unseenAlerts }) }, String(unseenAlerts))
            : null)
      )
  );
  tabs.hidden = false;
}

function renderHeader() {
  document.getElementById("lang").textContent = t("lang.switch");
  renderLive();
  const signout = document.getElementById("signout");
  signout.textContent = t("signout");
  signout.hidden = viewer == null;
  if (viewer) {
    const who = viewer.person ? pick(viewer.person, "name") : "";
    document.getElementById("tenant").textContent =
      `${pick(viewer.tenant, "name")} · ${who ? who + " · " : ""}${t(`role.${viewer.role}`)}`;
  }
}

function route() {
  const [name, ...params] = location.hash.replace(/^#\/?/, "").split("/");
  return { name: VIEWS[name] ? name : "tree", params: params.map(decodeURIComponent) };
}

let rendering = 0; // which render is current: a view left before it finished is cleaned up

function leaveView() {
  rendering += 1;
  if (cleanup) cleanup();
  cleanup = null;
}

function renderView() {
  if (!viewer) return;
  leaveView();
  const { name, params } = route();
  const view = VIEWS[name];
  if (view.roles && !ctx.can(...view.roles)) return ctx.navigate("tree");
  if (name === "loop") unseenAlerts = 0;
  renderTabs();
  renderHeader();
  root.dataset.view = name;
  // each render draws into its own element: one still loading when left draws nowhere
  const body = h("div.view-body", h("p.loading", t("loading")));
  show(root, body);
  const current = rendering;
  Promise.resolve(view.render(body, ctx, params)).then((done) => {
    if (typeof done !== "function") return;
    if (current === rendering) cleanup = done;
    else done(); // left while it was loading: end its subscriptions at once
  });
}

function watchAlerts() {
  stopAlerts?.();
  stopAlerts = subscribe(ALERTS, {}, (data) => {
    const event = data.alerts;
    if (event.resync || !event.alertId) return;
    if (route().name !== "loop") unseenAlerts += 1;
    toast(t("alert.new", { title: t(`alertKind.${event.kind}`) }), "info");
    renderTabs();
  });
}

async function boot() {
  takeFragmentToken();
  if (!session.token) return showSignIn();
  try {
    viewer = (await gql(VIEWER)).viewer;
  } catch (error) {
    if (!session.token) return; // signed out by the client; the form is showing
    return showSignIn(error.message);
  }
  watchAlerts();
  renderView();
}

whenSignedOut(() => {
  closeAll();
  stopAlerts = null;
  showSignIn(t("signin.expired"));
});

let live = null; // the socket's state, once there is one

function renderLive() {
  const badge = document.getElementById("live");
  badge.hidden = live === null;
  badge.textContent = live ? t("live.on") : t("live.off");
  badge.classList.toggle("off", live === false);
}

onLiveChange((connected) => {
  live = connected;
  renderLive();
});

document.getElementById("lang").addEventListener("click", () => setLang(lang === "en" ? "zh" : "en"));
document.getElementById("signout").addEventListener("click", signOut);
onLang(() => {
  renderHeader();
  if (viewer) renderView();
  else showSignIn();
});

window.addEventListener("hashchange", () => {
  if (new URLSearchParams(location.hash.slice(1)).get("token")) boot();
  else renderView();
});

renderHeader();
boot();

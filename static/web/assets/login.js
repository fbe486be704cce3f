// Chorus sign-in page: a password form, single sign-on when configured,
// and, while Chorus has no account yet, the first owner's setup with the
// code from the server's log.
//
// What it promises: the password goes only to POST /api/v1/session (the
// server sets an HttpOnly session cookie, new at every sign-in); the page
// returns only to a path on this site (?next=/console/...); failures say
// what to do, including how long to wait after too many tries.

const $ = (sel) => document.querySelector(sel);

const SSO_ERRORS = {
  sso_failed: "Single sign-on did not complete. Try again, or sign in with a password.",
  sso_denied: "Single sign-on was cancelled at the provider.",
  sso_no_role: "Your single sign-on account has no role in Chorus. Ask an owner to grant one.",
  sso_expired: "Single sign-on took too long. Try again.",
};

/** next is where to go after signing in: a path on this site, else the console. */
function next() {
  const n = new URLSearchParams(location.search).get("next") || "";
  return n.startsWith("/") && !n.startsWith("//") && !n.includes("\\") && !/[\r\n]/.test(n) ? n : "/console";
}

function show(id, msg) {
  const el = $(id);
  el.textContent = msg;
  el.hidden = !msg;
}

async function post(url, body) {
  const res = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    // no body
  }
  return { res, data };
}

function failure(res, data) {
  const msg = data && typeof data.error === "string" ? data.error : `${res.status} ${res.statusText}`;
  if (res.status === 429) return `Too many tries. ${msg.replace(/^too many [^;]*; /, "")}`.replace(/try again/i, "Try again");
  if (res.status === 401) return "Wrong user name or password.";
  return msg.charAt(0).toUpperCase() + msg.slice(1);
}

async function signIn(ev) {
  ev.preventDefault();
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username || !password) {
    show("#signin-error", "Type your user name and password.");
    (!username ? $("#username") : $("#password")).focus();
    return;
  }
  const btn = $("#signin-btn");
  btn.disabled = true;
  show("#signin-error", "");
  try {
    const { res, data } = await post("/api/v1/session", { username, password });
    if (res.ok) {
      location.assign(next());
      return;
    }
    show("#signin-error", failure(res, data));
    $("#password").value = "";
    $("#password").focus();
  } catch {
    show("#signin-error", "Chorus cannot be reached. Check the connection and try again.");
  } finally {
    btn.disabled = false;
  }
}

async function setup(ev) {
  ev.preventDefault();
  const code = $("#code").value.trim();
  const username = $("#setup-username").value.trim();
  const password = $("#setup-password").value;
  if (!code || !username || !password) {
    show("#setup-error", "Fill in every field.");
    return;
  }
  if (password !== $("#setup-again").value) {
    show("#setup-error", "The two passwords differ.");
    $("#setup-again").focus();
    return;
  }
  show("#setup-error", "");
  try {
    const { res, data } = await post("/api/v1/setup", { code, username, password });
    if (res.ok) {
      location.assign("/console");
      return;
    }
    if (res.status === 409) {
      start();
      return;
    }
    show("#setup-error", failure(res, data));
  } catch {
    show("#setup-error", "Chorus cannot be reached. Check the connection and try again.");
  }
}

async function start() {
  try {
    const theme = localStorage.getItem("chorus.console.theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch {
    // storage off: the system's choice
  }
  $("#signin").addEventListener("submit", signIn);
  $("#setup").addEventListener("submit", setup);
  const err = new URLSearchParams(location.search).get("error");
  try {
    const who = await fetch("/api/v1/session", { credentials: "same-origin", cache: "no-store" });
    if (who.ok && !err) {
      location.replace(next());
      return;
    }
    const res = await fetch("/api/v1/login-options", { cache: "no-store" });
    const opts = await res.json();
    $("#login-status").hidden = true;
    if (opts.setup_needed) {
      $("#setup").hidden = false;
      $("#code").focus();
      return;
    }
    $("#signin").hidden = false;
    if (opts.sso && typeof opts.sso.login_url === "string" && opts.sso.login_url.startsWith("/")) {
      const link = $("#sso-link");
      link.href = `${opts.sso.login_url}?return=${encodeURIComponent(next())}`;
      link.textContent = `Sign in with ${opts.sso.label || "single sign-on"}`;
      $("#sso").hidden = false;
    }
    if (err) show("#signin-error", SSO_ERRORS[err] || "Signing in did not complete. Try again.");
    $("#username").focus();
  } catch {
    $("#login-status").textContent = "Chorus cannot be reached. Reload the page to try again.";
  }
}

start();

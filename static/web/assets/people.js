// Chorus console pages about people: users and API keys (owners), and each
// person's own account (password, sessions). Everything goes through the
// accounts API; secrets are shown once and never kept by the page.

import { api, path, ApiError } from "./api.js";
import { h, clear, table, timeEl } from "./dom.js";
import { checks, field, input, options, clearErrors, showErrors } from "./forms.js";

const ROLES = [
  ["viewer", "Viewer: reads queues, search and the audit"],
  ["moderator", "Moderator: acts on posts and authors, pauses screens"],
  ["manager", "Manager: also settings, rules and sources of the stream"],
  ["owner", "Owner: everything, users and keys included"],
];

function grantText(g) {
  return !g.streams || g.streams.length === 0 ? "every stream" : g.streams.join(", ");
}

/** streamChecks lets an owner pick streams; none picked means every stream. */
function streamChecks(app, chosen) {
  const items = app.streams.map((s) => [s.id, s.id, (chosen || []).includes(s.id)]);
  return checks("streams", "Streams (none ticked: every stream, also those created later)", items);
}

function problems(form, err, topError) {
  const left = err instanceof ApiError && err.problems.length ? showErrors(form, err.problems) : [{ message: err.message }];
  topError.hidden = left.length === 0;
  topError.textContent = left.map((p) => (p.key ? `${p.key}: ${p.message}` : p.message)).join(" ");
}

/**
 * ownerList draws an owners' page listing what GET path answers under
 * `field` (users or keys) as table rows; it returns the page and what
 * loads the list again, or null for someone who is no owner.
 */
function ownerList(app, main, { id, title, path: p, field, headers, row, empty }) {
  const box = h("section", { className: `view view-${field}`, aria: { labelledby: id } }, h("div", { className: "view-head" }, h("h1", { id }, title)));
  main.append(box);
  if (!app.may("owner", "")) {
    box.append(h("p", { className: "hint" }, "Only owners manage users and keys."));
    return null;
  }
  const body = h("tbody");
  const load = async () => {
    let data;
    try {
      data = await api("GET", p);
    } catch (err) {
      app.error(err, `Could not load the ${field}`);
      return;
    }
    clear(body);
    const list = data[field] || [];
    if (!list.length) body.append(h("tr", {}, h("td", { colSpan: headers.length, className: "hint" }, empty)));
    for (const item of list) body.append(row(item, load));
  };
  box.append(table(`table ${field}`, headers, body));
  load();
  return { box, load };
}

// ---- users ------------------------------------------------------------------

/** mountUsers draws the users page. */
export function mountUsers(app, main) {
  const page = ownerList(app, main, {
    id: "u-title", title: "Users", path: "/api/v1/users", field: "users", empty: "No users yet.",
    headers: ["User", "Role", "Streams", "Last sign-in", "Added by", ""],
    row: (u, load) => userRow(app, u, load),
  });
  if (page) page.box.append(addUserForm(app, page.load));
  return null;
}

function userRow(app, u, reload) {
  const role = options(ROLES.map(([v]) => [v, v]), u.role);
  const streams = streamChecks(app, u.streams);
  const password = input("password", "", { autocomplete: "new-password", minLength: 15 });
  const status = h("p", { className: "form-status", attrs: { role: "status" } });
  const topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
  const run = async (what, fn) => {
    topError.hidden = true;
    status.textContent = "\u2026";
    try {
      await fn();
      status.textContent = what;
    } catch (err) {
      status.textContent = "";
      problems(manage, err, topError);
    }
  };
  const manage = h(
    "div",
    { className: "manage-panel" },
    topError,
    h(
      "form",
      {
        className: "inline-form",
        onsubmit: (ev) => {
          ev.preventDefault();
          run("Saved.", async () => {
            await api("PATCH", path("users", u.name), { role: role.value, streams: streams.value() });
            reload();
          });
        },
      },
      field("role", "Role", role),
      streams.el,
      h("button", { type: "submit", className: "btn primary" }, "Save role"),
    ),
    h(
      "form",
      {
        className: "inline-form",
        onsubmit: (ev) => {
          ev.preventDefault();
          run("Password set; their sessions ended.", () => api("PUT", path("users", u.name, "password"), { password: password.value }));
        },
      },
      field("password", "New password", password, "At least 15 characters; a few words make a good one"),
      h("button", { type: "submit", className: "btn" }, "Set password"),
    ),
    h(
      "p",
      { className: "row-actions" },
      h("button", { type: "button", className: "btn", onclick: () => run("Signed out everywhere.", () => api("DELETE", path("users", u.name, "sessions"))) }, "Sign out everywhere"),
      h(
        "button",
        {
          type: "button",
          className: "btn danger",
          onclick: async () => {
            const a = await app.confirm({ title: `Remove ${u.name}?`, text: "They are signed out at once and can no longer sign in. The audit keeps their name.", ok: "Remove user" });
            if (a.ok) run("Removed.", async () => {
              await api("DELETE", path("users", u.name));
              reload();
            });
          },
        },
        "Remove user",
      ),
    ),
    status,
  );
  return h(
    "tr",
    { dataset: { name: u.name } },
    h("th", { scope: "row" }, u.name),
    h("td", {}, u.role),
    h("td", {}, grantText(u)),
    h("td", {}, u.last_login ? timeEl(u.last_login) : "never"),
    h("td", {}, u.created_by || "\u2013"),
    h("td", {}, h("details", { className: "manage" }, h("summary", { className: "btn quiet" }, "Manage"), manage)),
  );
}

function addUserForm(app, reload) {
  const name = input("text", "", { autocapitalize: "off", spellcheck: false, required: true });
  const password = input("password", "", { autocomplete: "new-password", required: true, minLength: 15 });
  const role = options(ROLES, "moderator");
  const streams = streamChecks(app, []);
  const topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
  const status = h("p", { className: "form-status", attrs: { role: "status" } });
  const form = h(
    "form",
    {
      className: "panel settings-form",
      noValidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        topError.hidden = true;
        try {
          await api("POST", "/api/v1/users", { name: name.value.trim(), password: password.value, role: role.value, streams: streams.value() });
          status.textContent = `Added ${name.value.trim()}. Tell them their password by a safe way; they can change it under My account.`;
          name.value = "";
          password.value = "";
          reload();
        } catch (err) {
          status.textContent = "";
          problems(form, err, topError);
        }
      },
    },
    h("h2", {}, "Add a user"),
    topError,
    h("div", { className: "grid-2" }, field("name", "User name", name, "a-z, 0-9, . - _"), field("password", "Password", password, "At least 15 characters; a few words make a good one"), field("role", "Role", role), streams.el),
    h("div", { className: "form-actions" }, h("button", { type: "submit", className: "btn primary" }, "Add user"), status),
  );
  return form;
}

// ---- keys -----------------------------------------------------------------------

/** mountKeys draws the API keys page. */
export function mountKeys(app, main) {
  const page = ownerList(app, main, {
    id: "k-title", title: "API keys", path: "/api/v1/keys", field: "keys", empty: "No keys yet.",
    headers: ["Key", "Role", "Streams", "Created", "Last used", ""],
    row: (k, load) => keyRow(app, k, load),
  });
  if (!page) return null;
  const load = page.load;
  const name = input("text", "", { autocapitalize: "off", spellcheck: false });
  const role = options(ROLES, "viewer");
  const streams = streamChecks(app, []);
  const topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
  const secretBox = h("div", { className: "secret", hidden: true, attrs: { role: "status" } });
  const form = h(
    "form",
    {
      className: "panel settings-form",
      noValidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        topError.hidden = true;
        try {
          const k = await api("POST", "/api/v1/keys", { name: name.value.trim(), role: role.value, streams: streams.value() });
          const code = h("code", { className: "mono" }, k.secret);
          clear(secretBox).append(
            h("p", {}, h("strong", {}, `The key ${k.name}, shown this once:`), " copy it now; Chorus keeps only its hash."),
            code,
            h(
              "button",
              {
                type: "button",
                className: "btn",
                onclick: async (e) => {
                  try {
                    await navigator.clipboard.writeText(k.secret);
                    e.target.textContent = "Copied";
                  } catch {
                    e.target.textContent = "Select the key and copy it";
                  }
                },
              },
              "Copy",
            ),
            h("p", { className: "hint" }, "Send it as Authorization: Bearer <key>."),
          );
          secretBox.hidden = false;
          name.value = "";
          load();
        } catch (err) {
          problems(form, err, topError);
        }
      },
    },
    h("h2", {}, "Create a key"),
    topError,
    h("div", { className: "grid-2" }, field("name", "Name", name, "What uses it: ci, signage-player, ..."), field("role", "Role", role), streams.el),
    h("div", { className: "form-actions" }, h("button", { type: "submit", className: "btn primary" }, "Create key")),
    secretBox,
  );
  page.box.append(form);
  return null;
}

function keyRow(app, k, load) {
  return h(
    "tr",
    { dataset: { name: k.name } },
    h("th", { scope: "row" }, k.name),
    h("td", {}, k.role),
    h("td", {}, grantText(k)),
    h("td", {}, timeEl(k.created)),
    h("td", {}, k.last_used ? timeEl(k.last_used) : "never"),
    h(
      "td",
      {},
      h(
        "button",
        {
          type: "button",
          className: "btn danger-quiet",
          onclick: async () => {
            const a = await app.confirm({ title: `Revoke the key ${k.name}?`, text: "Whatever uses it is refused from now on, on every node.", ok: "Revoke key" });
            if (!a.ok) return;
            try {
              await api("DELETE", path("keys", k.name));
              load();
            } catch (err) {
              app.error(err, "Could not revoke");
            }
          },
        },
        "Revoke",
      ),
    ),
  );
}

// ---- my account ---------------------------------------------------------------------

/** mountAccount draws the signed-in person's password and sessions. */
export function mountAccount(app, main) {
  const s = app.session;
  const box = h(
    "section",
    { className: "view view-account", aria: { labelledby: "acc-title" } },
    h("div", { className: "view-head" }, h("h1", { id: "acc-title" }, "My account")),
    h("p", {}, `Signed in as ${s.user}: ${s.role} of ${s.all_streams ? "every stream" : s.streams.join(", ")}.`),
  );
  main.append(box);
  const body = h("tbody");
  const load = async () => {
    try {
      const data = await api("GET", "/api/v1/sessions");
      clear(body);
      for (const se of data.sessions || []) {
        body.append(
          h(
            "tr",
            {},
            h("td", {}, se.current ? h("strong", {}, "This browser") : se.user_agent || "Unknown browser"),
            h("td", {}, se.address || "\u2013"),
            h("td", {}, timeEl(se.created)),
            h("td", {}, timeEl(se.last_seen)),
            h(
              "td",
              {},
              h(
                "button",
                {
                  type: "button",
                  className: "btn quiet",
                  onclick: async () => {
                    try {
                      await api("DELETE", path("sessions", se.id));
                      if (se.current) location.assign("/login");
                      else load();
                    } catch (err) {
                      app.error(err, "Could not end the session");
                    }
                  },
                },
                se.current ? "Sign out" : "End",
              ),
            ),
          ),
        );
      }
    } catch (err) {
      app.error(err, "Could not load the sessions");
    }
  };
  if (s.kind === "user") {
    const current = input("password", "", { autocomplete: "current-password" });
    const next = input("password", "", { autocomplete: "new-password", minLength: 15 });
    const status = h("p", { className: "form-status", attrs: { role: "status" } });
    const topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
    const form = h(
      "form",
      {
        className: "panel settings-form",
        noValidate: true,
        onsubmit: async (ev) => {
          ev.preventDefault();
          clearErrors(form);
          try {
            await api("PUT", "/api/v1/session/password", { current: current.value, new: next.value });
            status.textContent = "Password changed; your other sessions ended.";
            current.value = "";
            next.value = "";
            load();
          } catch (err) {
            status.textContent = "";
            problems(form, err, topError);
          }
        },
      },
      h("h2", {}, "Change my password"),
      topError,
      h("div", { className: "grid-2" }, field("current", "Current password", current), field("new", "New password", next, "At least 15 characters; a few words make a good one")),
      h("div", { className: "form-actions" }, h("button", { type: "submit", className: "btn primary" }, "Change password"), status),
    );
    box.append(form);
  }
  box.append(
    h(
      "section",
      { className: "panel", aria: { labelledby: "sess-title" } },
      h("h2", { id: "sess-title" }, "My sessions"),
      table("table", ["Browser", "Address", "Signed in", "Last seen", ""], body),
      h(
        "button",
        {
          type: "button",
          className: "btn danger",
          onclick: async () => {
            try {
              await api("DELETE", "/api/v1/sessions");
            } catch (err) {
              if (!(err instanceof ApiError && err.status === 401)) return app.error(err, "Could not sign out");
            }
            location.assign("/login");
          },
        },
        "Sign out everywhere",
      ),
    ),
  );
  load();
  return null;
}

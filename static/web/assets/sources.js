// Chorus console sources page: each source's state, last fetch, posts
// fetched, last error and next retry (GET /api/v1/sources), refreshed
// every 10 s while shown.

import { api } from "./api.js";
import { h, clear, num, table, timeEl } from "./dom.js";

/** mountSources draws the sources page. */
export function mountSources(app, main) {
  const body = h("tbody");
  const status = h("p", { className: "count-line", attrs: { role: "status" } }, "Loading\u2026");
  main.append(
    h(
      "section",
      { className: "view view-sources", aria: { labelledby: "src-title" } },
      h("div", { className: "view-head" }, h("h1", { id: "src-title" }, "Sources"), status),
      h("p", { className: "hint" }, "Sources are declared in the config file. A failing source retries by itself; its error says what to fix."),
      table("table sources", ["Source", "State", "Last fetch", "Posts fetched", "Problem", "Next retry"], body),
    ),
  );
  const load = async () => {
    let data;
    try {
      data = await api("GET", "/api/v1/sources");
    } catch (err) {
      status.textContent = `The sources could not be loaded: ${err.message}`;
      return;
    }
    const list = data.sources || [];
    const failing = list.filter((s) => s.last_error).length;
    status.textContent = `${num(list.length)} sources${failing ? `, ${num(failing)} with a problem` : ""}`;
    clear(body);
    if (!list.length) body.append(h("tr", {}, h("td", { colSpan: 6, className: "hint" }, "No sources you can see.")));
    for (const s of list) {
      const state = !s.running ? ["stopped", "Stopped"] : s.last_error ? ["failing", "Retrying"] : ["ok", "Running"];
      body.append(
        h(
          "tr",
          { dataset: { id: s.id } },
          h("th", { scope: "row", className: "mono" }, s.id),
          h("td", {}, h("span", { className: `state state-${state[0]}` }, state[1])),
          h("td", {}, timeEl(s.last_fetch)),
          h("td", { className: "num" }, num(s.posts_fetched)),
          h("td", { className: "problem" }, s.last_error ? `${s.last_error}${s.consecutive_errors > 1 ? ` (${num(s.consecutive_errors)} times in a row)` : ""}` : "\u2013"),
          h("td", {}, s.next_retry ? timeEl(s.next_retry) : "\u2013"),
        ),
      );
    }
  };
  load();
  const timer = setInterval(load, 10_000);
  return () => clearInterval(timer);
}

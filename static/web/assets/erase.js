// Chorus console: erasing an author's data (GDPR Art. 17) from a post's
// card. Managers of a stream may erase from that stream; owners and
// managers of every stream also from every stream and the posts as fetched.
//
// What it promises:
//   - nothing is erased until the person types the author's key exactly:
//     the Erase button stays off until then, and Enter does nothing;
//   - the dialog stays open while the erasure runs and says so; a refusal
//     is shown in the dialog, next to what can be corrected;
//   - the answer says what was erased, in numbers, and nothing about whom
//     but the key the person typed.

import { api, path, may } from "./api.js";
import { $, num } from "./dom.js";

/** mayErase says whether the signed-in person may erase in stream. */
export function mayErase(app, stream) {
  return app.may("manager", stream);
}

/** mayEraseEverywhere: owners, and managers of every stream. */
function mayEraseEverywhere(app) {
  return !!(app.session && app.session.all_streams) && may(app.session, "manager", "");
}

/**
 * askErase asks which streams to erase the author from and for the
 * typed confirmation, then erases. It resolves with the erasure's report
 * and scope ({ report, everywhere }), or null when the person cancelled.
 */
export function askErase(app, stream, key) {
  const dlg = $("#erase");
  const form = $("#erase-form");
  const typed = $("#erase-typed");
  const ok = $("#erase-ok");
  const cancel = $("#erase-cancel");
  const error = $("#erase-error");
  const all = $("#erase-all");
  const one = $("#erase-stream");
  const everywhere = mayEraseEverywhere(app);
  $("#erase-title").textContent = `Erase the data of ${key}?`;
  $("#erase-key").textContent = key;
  $("#erase-stream-label").textContent = `${app.streamTitle(stream)} only`;
  all.disabled = !everywhere;
  all.closest("label").hidden = !everywhere;
  all.checked = everywhere;
  one.checked = !everywhere;
  typed.value = "";
  $("#erase-reason").value = "";
  error.hidden = true;
  error.textContent = "";
  ok.disabled = true;
  ok.textContent = "Erase author's data";
  let busy = false;
  const matches = () => typed.value.trim().toLowerCase() === key.toLowerCase();
  const back = document.activeElement;

  return new Promise((resolve) => {
    let result = null;
    const onInput = () => {
      if (!busy) ok.disabled = !matches();
    };
    const onCancel = (ev) => {
      // Escape while erasing would hide an erasure that goes on.
      if (busy) ev.preventDefault();
    };
    const onClose = () => {
      typed.removeEventListener("input", onInput);
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancelClick);
      dlg.removeEventListener("cancel", onCancel);
      dlg.removeEventListener("close", onClose);
      if (back && back.isConnected) back.focus({ preventScroll: true });
      resolve(result);
    };
    const onCancelClick = () => {
      if (!busy) dlg.close("cancel");
    };
    const onSubmit = async (ev) => {
      ev.preventDefault();
      if (busy || !matches()) return;
      busy = true;
      ok.disabled = true;
      cancel.disabled = true;
      ok.textContent = "Erasing\u2026";
      error.hidden = true;
      const wide = all.checked && everywhere;
      const reason = $("#erase-reason").value.trim();
      const url = wide ? path("authors", key, "erase") : path("streams", stream, "authors", key, "erase");
      try {
        const report = await api("POST", url, reason ? { reason } : undefined);
        result = { report, everywhere: wide };
        busy = false;
        dlg.close("ok");
      } catch (err) {
        busy = false;
        cancel.disabled = false;
        ok.textContent = "Erase author's data";
        ok.disabled = !matches();
        // A refusal (4xx) changed nothing; anything else may have stopped
        // half way, and erasing again finishes it.
        error.textContent = err.status >= 400 && err.status < 500
          ? `Nothing was erased: ${err.message}`
          : `The erasure did not finish: ${err.message}. Erase again to finish it.`;
        error.hidden = false;
      }
    };
    typed.addEventListener("input", onInput);
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancelClick);
    dlg.addEventListener("cancel", onCancel);
    dlg.addEventListener("close", onClose);
    cancel.disabled = false;
    dlg.returnValue = "";
    dlg.showModal();
    typed.focus();
  });
}

/** summary says in a sentence what an erasure did. */
export function summary(key, { report, everywhere }, streamTitle) {
  const r = report || {};
  const where = everywhere ? "every stream" : streamTitle;
  const stored = (Number(r.ingest_messages_erased) || 0) + (Number(r.events_erased) || 0);
  return `Erased ${key} from ${where}: ${num(r.posts)} ${Number(r.posts) === 1 ? "post" : "posts"}, ${num(stored)} stored messages overwritten. Their new posts are refused.`;
}

// Chorus console: the right to use a post, in streams whose widgets show
// only posts whose authors agreed (rights: required).
//
// What it promises:
//   - "Request rights" records the request first, then shows the text to
//     post as a reply from the brand's account, with a button that copies
//     it; the author's reply with the hashtag grants the rights by itself;
//   - "Record consent" needs a note saying how the author agreed (it is
//     the proof the audit keeps); "Revoke rights" takes the post off the
//     widgets at once;
//   - a refusal is shown in the dialog and changes nothing.

import { api, path } from "./api.js";
import { $ } from "./dom.js";

const STATE_WORDS = { requested: "Requested", granted: "Granted", revoked: "Revoked" };

/** rightsWords says where a post's rights stand, for cards. */
export function rightsWords(rights) {
  const state = rights && rights.state;
  return STATE_WORDS[state] || "Not asked";
}

/** rightsDetail says what proves or explains the state, or "". */
export function rightsDetail(rights) {
  if (!rights) return "";
  const proof = rights.proof || {};
  if (rights.state === "granted") return proof.post_id ? `the author replied #${rights.hashtag || ""}` : proof.note ? `recorded: ${proof.note}` : "";
  if (rights.state === "requested") return rights.hashtag ? `waiting for a reply with #${rights.hashtag}` : "";
  if (rights.state === "revoked") return proof.note || "";
  return "";
}

function call(stream, id, body) {
  return api("POST", path("streams", stream, "posts", id, "rights"), body);
}

/**
 * askRights runs a rights action on hit ("request", "grant", "revoke")
 * with its dialog; it resolves with the post's rights after the action, or
 * null when nothing changed.
 */
export function askRights(app, stream, hit, action) {
  const dlg = $("#rights");
  const form = $("#rights-form");
  const ok = $("#rights-ok");
  const cancel = $("#rights-cancel");
  const note = $("#rights-note");
  const error = $("#rights-error");
  const copy = $("#rights-copy");
  const p = hit.post || {};
  const who = p.author && p.author.handle ? `@${String(p.author.handle).replace(/^@/, "")}` : "the author";
  error.hidden = true;
  note.value = "";
  $("#rights-copied").textContent = "";
  const requesting = action === "request";
  $("#rights-request-box").hidden = !requesting;
  $("#rights-note-field").hidden = requesting;
  note.required = action === "grant";
  $("#rights-note-label").textContent = action === "grant" ? "How the author agreed (kept as the proof)" : "Why (optional, kept in the audit)";
  ok.className = action === "revoke" ? "btn danger" : "btn primary";
  cancel.textContent = "Cancel";
  ok.hidden = false;
  const titles = {
    request: `Ask ${who} for the right to use this post`,
    grant: `Record ${who}'s consent`,
    revoke: `Revoke the right to use ${who}'s post?`,
  };
  const intros = {
    request: "Post this text as a reply to their post. When they answer with the hashtag, Chorus grants the rights by itself and the post goes on your widgets.",
    grant: "For a consent given elsewhere (an email, a direct message). The post goes on your widgets at once.",
    revoke: "The post leaves your widgets, cards and feeds at once. Walls that are exempt keep it.",
  };
  $("#rights-title").textContent = titles[action];
  $("#rights-intro").textContent = intros[action];
  ok.textContent = action === "grant" ? "Record consent" : "Revoke rights";
  const back = document.activeElement;

  return new Promise((resolve) => {
    let result = null;
    let busy = false;
    const fail = (err) => {
      error.textContent = `Nothing changed: ${err.message}`;
      error.hidden = false;
    };
    const onCopy = async () => {
      const area = $("#rights-request");
      try {
        await navigator.clipboard.writeText(area.value);
        $("#rights-copied").textContent = "Copied.";
      } catch {
        area.focus();
        area.select();
        $("#rights-copied").textContent = "Selected: press Ctrl+C (or \u2318C) to copy.";
      }
    };
    const onSubmit = async (ev) => {
      ev.preventDefault();
      if (busy || requesting) return;
      const text = note.value.trim();
      if (action === "grant" && !text) {
        error.textContent = "Say how the author agreed: it is the proof the audit keeps.";
        error.hidden = false;
        note.focus();
        return;
      }
      busy = true;
      ok.disabled = true;
      try {
        const res = await call(stream, p.id, text ? { action, note: text } : { action });
        result = res && res.rights;
        busy = false;
        dlg.close("ok");
      } catch (err) {
        busy = false;
        ok.disabled = false;
        fail(err);
      }
    };
    const onCancel = () => {
      if (!busy) dlg.close("cancel");
    };
    const onClose = () => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      copy.removeEventListener("click", onCopy);
      dlg.removeEventListener("close", onClose);
      if (back && back.isConnected) back.focus({ preventScroll: true });
      resolve(result);
    };
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    copy.addEventListener("click", onCopy);
    dlg.addEventListener("close", onClose);
    ok.disabled = false;
    if (!requesting) {
      dlg.showModal();
      note.focus();
      return;
    }
    // A request is recorded first; the dialog then shows its text.
    ok.hidden = true;
    cancel.textContent = "Close";
    call(stream, p.id, { action: "request" }).then(
      (res) => {
        result = res && res.rights;
        $("#rights-request").value = (result && result.text) || "";
        dlg.showModal();
        copy.focus();
      },
      (err) => {
        app.error(err, "Could not request the rights");
        onClose();
      },
    );
  });
}

// Chorus embed page: /embed/{id}?layout=...&theme=...&limit=...&profile=...
// &pace=...&replay=...&token=...&height=...&load-more=off. It puts one
// <chorus-wall> (embed.js, loaded by the page) in the frame, with the URL's
// options as its attributes, filling the frame unless ?height= says
// otherwise. The server lets only the stream's allowed_origins frame it.

const STREAM_RE = /^[a-z0-9_-]{1,64}$/;
const OPTIONS = ["layout", "theme", "limit", "profile", "pace", "replay", "token", "height", "load-more"];

function streamFromPath(path) {
  const m = /^\/embed\/([^/]+)\/?$/.exec(path);
  if (!m) return "";
  try {
    const id = decodeURIComponent(m[1]);
    return STREAM_RE.test(id) ? id : "";
  } catch {
    return "";
  }
}

const params = new URLSearchParams(location.search);
const widget = document.createElement("chorus-wall");
widget.setAttribute("stream", streamFromPath(location.pathname));
for (const name of OPTIONS) {
  const v = params.get(name);
  if (v !== null && v.length <= 4096) widget.setAttribute(name, v);
}
if (!widget.hasAttribute("height")) widget.setAttribute("height", "100vh");
document.getElementById("embed").append(widget);

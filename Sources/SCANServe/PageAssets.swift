/// The search page served at `/`: plain HTML, CSS and JavaScript in one document, with no external
/// script, font or stylesheet, so it works offline. The query lives in the URL (`/?q=...`, `&id=`
/// for one image's view), so results can be linked and the back button works.
enum PageAssets {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCAN search</title>
<style>
  :root { --fg: #1d2330; --muted: #5b6475; --line: #d8dce4; --accent: #1f5fbf; --bad: #a3261b; --bg: #f7f8fa; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 14px 20px; background: #fff; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 10px 20px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; }
  header h1 a { color: inherit; text-decoration: none; }
  form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; flex: 1; min-width: 280px; }
  #q { flex: 1; min-width: 200px; padding: 8px 10px; font-size: 16px; border: 1px solid #9aa3b2; border-radius: 6px; }
  select, button { padding: 7px 10px; font-size: 14px; border-radius: 6px; border: 1px solid #9aa3b2; background: #fff; }
  button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
  :focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
  main { padding: 16px 20px; max-width: 1200px; }
  #notice { background: #fff6d6; border: 1px solid #e8cf73; padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; }
  #status { color: var(--muted); margin: 4px 0 12px; min-height: 1.4em; }
  #status.error { color: var(--bad); font-weight: 600; }
  .warning { color: #7a5200; }
  #results { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 14px; }
  .result { background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
  .result a.open { display: block; color: inherit; text-decoration: none; }
  .result img { display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: cover; background: #e9ecf1; }
  .meta { padding: 8px 10px 2px; display: flex; gap: 10px; font-size: 13px; color: var(--muted); }
  .meta .id { color: var(--fg); font-weight: 600; overflow-wrap: anywhere; }
  .captions { margin: 4px 0 10px; padding: 0 10px 0 28px; font-size: 13.5px; }
  #detail { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px; display: grid; grid-template-columns: minmax(200px, 480px) 1fr; gap: 18px; }
  #detail img { width: 100%; background: #e9ecf1; border-radius: 6px; }
  #detail pre { white-space: pre-wrap; font-size: 12px; color: var(--muted); }
  .hidden { display: none !important; }
  footer { color: var(--muted); font-size: 12px; padding: 10px 20px 30px; }
</style>
</head>
<body>
<header>
  <h1><a href="/">SCAN image search</a></h1>
  <form id="search" role="search" action="/" method="get">
    <label for="q" class="hidden">Query</label>
    <input id="q" name="q" type="search" placeholder="Describe a picture, e.g. a dog on a beach" autocomplete="off" aria-label="Query" autofocus>
    <label>Mode <select id="mode" name="mode" aria-label="Mode">
      <option value="two-stage">two-stage</option><option value="exact">exact</option><option value="prefilter">prefilter</option>
    </select></label>
    <button id="go" type="submit">Search</button>
  </form>
</header>
<main>
  <div id="notice" class="hidden" role="note"></div>
  <div id="status" role="status" aria-live="polite"></div>
  <ol id="results" aria-label="Results"></ol>
  <section id="detail" class="hidden" aria-label="Image">
    <img id="detail-img" alt="">
    <div>
      <h2 id="detail-id"></h2>
      <ul id="detail-captions"></ul>
      <p><a id="back" href="/">Back to the results</a></p>
      <pre id="detail-meta"></pre>
    </div>
  </section>
</main>
<footer id="footer">Served by scan-serve. API: <a href="/openapi.json">/openapi.json</a> · <a href="/metrics">/metrics</a></footer>
<script>
"use strict";
const placeholder = "data:image/svg+xml," + encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 240"><rect width="320" height="240" fill="#e4e7ec"/>' +
  '<rect x="120" y="80" width="80" height="60" rx="6" fill="none" stroke="#a9b0bc" stroke-width="4"/>' +
  '<circle cx="145" cy="102" r="7" fill="#a9b0bc"/><path d="M124 136l26-22 16 14 12-9 18 17z" fill="#a9b0bc"/>' +
  '<text x="160" y="175" font-family="sans-serif" font-size="14" fill="#7d8593" text-anchor="middle">no picture</text></svg>');
let template = null;
const $ = (id) => document.getElementById(id);

function pictureURL(id) {
  return template ? template.split("{id}").join(encodeURIComponent(id)) : placeholder;
}
function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text;
  s.className = isError ? "error" : "";
  s.setAttribute("role", isError ? "alert" : "status");
}
function el(tag, props, children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children || []) e.append(c);
  return e;
}
function picture(id, alt) {
  const img = el("img", { src: pictureURL(id), alt: alt, loading: "lazy" });
  img.addEventListener("error", () => { if (img.src !== placeholder) img.src = placeholder; }, { once: true });
  return img;
}
function params() { return new URLSearchParams(location.search); }

async function getJSON(url, init) {
  const r = await fetch(url, init);
  let body = null;
  try { body = await r.json(); } catch (e) { throw new Error("HTTP " + r.status + ": the answer is not JSON"); }
  if (!r.ok) {
    const err = body && body.error ? body.error : { message: "HTTP " + r.status };
    throw new Error((err.parameter ? err.parameter + ": " : "") + err.message);
  }
  return body;
}

async function search(p) {
  const q = p.get("q") || "";
  $("q").value = q;
  if (p.get("mode")) $("mode").value = p.get("mode");
  $("detail").classList.add("hidden");
  $("results").classList.remove("hidden");
  $("results").replaceChildren();
  setStatus("Searching…", false);
  const api = new URLSearchParams();
  for (const k of ["q", "top", "candidates", "mode"]) if (p.has(k)) api.set(k, p.get(k));
  try {
    const r = await getJSON("/search?" + api.toString());
    if (r.results.length === 0) {
      setStatus("No results: the index holds no images.", false);
      return;
    }
    let text = r.results.length + " results for “" + r.query + "” (" + r.timings_ms.total.toFixed(1) + " ms, " + r.image_count + " images, " + r.mode + ")";
    if (r.warning) text += " — " + r.warning;
    if (r.skipped.length) text += " — skipped " + r.skipped.length + " corrupt image(s)";
    setStatus(text, false);
    for (const h of r.results) {
      const link = new URLSearchParams(p); link.set("id", h.id);
      const a = el("a", { className: "open", href: "/?" + link.toString() }, [picture(h.id, h.captions[0] || h.id)]);
      a.addEventListener("click", (ev) => { ev.preventDefault(); navigate(a.getAttribute("href")); });
      const meta = el("div", { className: "meta" }, [
        el("span", { className: "rank", textContent: "#" + h.rank }),
        el("span", { className: "score", textContent: "score " + h.score.toFixed(4) }),
        el("span", { className: "id", textContent: h.id })]);
      const caps = el("ul", { className: "captions" }, h.captions.map((c) => el("li", { textContent: c })));
      $("results").append(el("li", { className: "result" }, [a, meta, caps]));
    }
  } catch (e) {
    setStatus("Error: " + e.message, true);
  }
}

async function detail(p) {
  const id = p.get("id");
  $("q").value = p.get("q") || "";
  $("results").classList.add("hidden");
  $("detail").classList.remove("hidden");
  const back = new URLSearchParams(p); back.delete("id");
  $("back").href = "/?" + back.toString();
  setStatus("Loading " + id + "…", false);
  try {
    const m = await getJSON("/images/" + encodeURIComponent(id));
    $("detail-id").textContent = m.id;
    $("detail-img").replaceWith(Object.assign(picture(m.id, m.captions[0] || m.id), { id: "detail-img" }));
    $("detail-captions").replaceChildren(...m.captions.map((c) => el("li", { textContent: c })));
    $("detail-meta").textContent = JSON.stringify({ key: m.key, source: m.source, boxes: m.boxes, image_width: m.image_width, image_height: m.image_height }, null, 1);
    setStatus("Image " + m.id, false);
    $("back").focus();
  } catch (e) {
    setStatus("Error: " + e.message, true);
  }
}

function render() {
  const p = params();
  if (p.has("id")) return detail(p);
  if (p.has("q")) return search(p);
  $("results").replaceChildren();
  $("detail").classList.add("hidden");
  setStatus("Type a description and press Enter.", false);
}
function navigate(url) { history.pushState(null, "", url); render(); }

$("back").addEventListener("click", (ev) => { ev.preventDefault(); navigate($("back").getAttribute("href")); });
$("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const p = new URLSearchParams();
  p.set("q", $("q").value);
  if ($("mode").value !== "two-stage") p.set("mode", $("mode").value);
  navigate("/?" + p.toString());
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "/" && document.activeElement !== $("q")) { ev.preventDefault(); $("q").focus(); $("q").select(); }
});
window.addEventListener("popstate", render);

(async () => {
  try {
    const info = await getJSON("/info");
    template = info.picture_url_template;
    if (info.notice) { $("notice").textContent = info.notice; $("notice").classList.remove("hidden"); }
    $("footer").prepend(document.createTextNode(info.image_count + " images, model " + info.manifest.model_name + ". "));
  } catch (e) {
    setStatus("Error: the service's /info failed: " + e.message, true);
  }
  render();
})();
</script>
</body>
</html>
"""#
}

// Accord Board: hash routes #/jobs, #/job/<id>[/<component>], #/models, over the site's HTTP API.
// A standalone site's link carries ?token=, which the site turns into an HttpOnly cookie; a cluster
// site's board logs in with one signed request (hmac.js) and then holds a session cookie.
"use strict";
(function () {
  const { el, table, renderMetrics, renderModel } = window.AccordCharts;
  const main = document.getElementById("main");
  const ENDED = new Set(["success", "failed", "canceled", "timeout"]);
  let streams = [];
  let session = null;

  // The credential is in the cookie now: keep it out of the address bar and the history.
  if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", "/board/" + location.hash);

  class ApiError extends Error {
    constructor(message, status, challenge) { super(message); this.status = status; this.challenge = challenge; }
  }

  async function api(path, body, extraHeaders) {
    const init = { credentials: "same-origin", headers: { ...(extraHeaders || {}) } };
    if (body !== undefined) {
      init.method = "POST";
      if (body !== null) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    }
    const reply = await fetch(path, init);
    const type = reply.headers.get("content-type") || "";
    if (!type.includes("json")) {
      if (!reply.ok) throw new ApiError(`${path}: HTTP ${reply.status}`, reply.status);
      return reply;
    }
    const envelope = await reply.json();
    if (envelope.retcode !== 0) throw new ApiError(envelope.retmsg || `HTTP ${reply.status}`, reply.status, reply.headers.get("www-authenticate") || "");
    return envelope.data;
  }

  const when = (ms) => (ms ? new Date(ms).toLocaleString() : "—");
  function duration(ms) {
    if (ms === null || ms === undefined) return "—";
    const s = Math.round(ms / 1000);
    return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }
  const badge = (status) => el("span", { class: `badge ${status}`, dataset: { status } }, status);
  const progress = (pct) => el("span", { class: "progress", title: `${pct}%` }, el("span", { style: `width:${Math.max(0, Math.min(100, pct))}%` }));
  const json = (value) => el("pre", {}, JSON.stringify(value, null, 2));
  const put = (node, ...kids) => node.replaceChildren(...kids.filter((k) => k !== null && k !== undefined && k !== false && k !== ""));

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function stream(path, handlers) {
    const source = new EventSource(path);
    for (const [event, handler] of Object.entries(handlers)) source.addEventListener(event, (e) => handler(JSON.parse(e.data)));
    source.addEventListener("end", () => source.close());
    streams.push(source);
    return source;
  }

  function fail(error) {
    if (error instanceof ApiError && error.status === 401) return showLogin(error);
    main.replaceChildren(el("div", { class: "error", id: "page-error" }, error.message || String(error)));
  }

  // ---- login --------------------------------------------------------------------------------

  function showLogin(error) {
    if (!error.challenge.startsWith("Signature")) {
      main.replaceChildren(el("div", { class: "card login" },
        el("h1", {}, "Accord Board"),
        el("p", {}, "This standalone site takes only its own user. Open the board link that ",
          el("code", {}, "accord job submit"), " or ", el("code", {}, "accord demo"),
          " prints: it carries the site's local credential.")));
      return;
    }
    const key = el("input", { id: "app-key", autocomplete: "username" });
    const secret = el("input", { id: "app-secret", type: "password", autocomplete: "current-password" });
    const message = el("p", { class: "muted" }, "Log in with one of the site's app keys (http.app_credentials).");
    const form = el("form", { class: "card login", id: "login" },
      el("h1", {}, "Accord Board — log in"), message,
      el("label", {}, "App key", key), el("label", {}, "App secret", secret),
      el("button", { type: "submit" }, "Log in"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const headers = await window.AccordSign.signedHeaders(key.value, secret.value, "POST", "/v1/board/login");
        await api("/v1/board/login", null, headers);
        secret.value = "";
        session = null;
        route();
      } catch (e) {
        message.replaceChildren(el("span", { class: "error" }, e.message));
      }
    });
    main.replaceChildren(form);
  }

  async function logout() {
    await api("/v1/board/logout", null);
    session = null;
    route();
  }

  // ---- jobs ---------------------------------------------------------------------------------

  async function jobsPage(params) {
    const filters = {
      status: params.get("status") || "", role: params.get("role") || "", party_id: params.get("party_id") || "",
      since: params.get("since") || "", until: params.get("until") || "", q: params.get("q") || "",
      component: params.get("component") || "", page: params.get("page") || "1",
    };
    const input = (name, attrs) => el("input", { name, value: filters[name], ...attrs });
    const select = (name, options) => el("select", { name }, options.map((o) => el("option", { value: o, ...(o === filters[name] ? { selected: "" } : {}) }, o || "any")));
    const form = el("form", { class: "filters", id: "job-filters" },
      el("label", {}, "status", select("status", ["", "waiting", "running", "paused", "success", "failed", "canceled", "timeout"])),
      el("label", {}, "role", select("role", ["", "guest", "host", "arbiter", "local"])),
      el("label", {}, "party", input("party_id", { size: 8, inputmode: "numeric" })),
      el("label", {}, "from", input("since", { type: "date" })),
      el("label", {}, "to", input("until", { type: "date" })),
      el("label", {}, "job id", input("q", { placeholder: "search", size: 24 })),
      el("label", {}, "component", input("component", { placeholder: "e.g. hetero_lr_0", size: 16 })),
      el("button", { type: "submit" }, "Filter"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      for (const [k, v] of new FormData(form).entries()) if (v) next.set(k, v);
      location.hash = `#/jobs?${next}`;
    });
    const body = el("div", { id: "job-table" }, el("p", { class: "muted" }, "Loading…"));
    main.replaceChildren(el("h1", {}, "Jobs"), form, body);

    async function load() {
      const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
      const data = await api(`/v1/board/jobs?${query}`);
      const rows = data.jobs.map((job) => el("tr", { class: "clickable", dataset: { jobId: job.job_id, role: job.role, partyId: job.party_id }, onclick: () => { location.hash = `#/job/${encodeURIComponent(job.job_id)}`; } },
        el("td", {}, el("a", { href: `#/job/${encodeURIComponent(job.job_id)}` }, job.job_id)),
        el("td", {}, badge(job.status)),
        el("td", {}, `${job.role} ${job.party_id}${job.is_initiator ? " (initiator)" : ""}`),
        el("td", {}, when(job.start_time || job.create_time)),
        el("td", {}, duration(job.elapsed_ms ?? (job.start_time && !ENDED.has(job.status) ? Date.now() - job.start_time : null))),
        el("td", {}, progress(job.progress), ` ${job.progress}%`)));
      const pages = Math.max(1, Math.ceil(data.total / data.size));
      const page = Number(filters.page);
      const go = (n) => { const next = new URLSearchParams(params); next.set("page", String(n)); location.hash = `#/jobs?${next}`; };
      body.replaceChildren(
        rows.length ? el("table", { id: "jobs" },
          el("thead", {}, el("tr", {}, ["job id", "status", "role / party", "start", "duration", "progress"].map((h) => el("th", {}, h)))),
          el("tbody", {}, rows)) : el("p", { class: "muted" }, "No jobs match."),
        el("div", { class: "pager" },
          el("button", { class: "secondary", onclick: () => go(page - 1), ...(page <= 1 ? { disabled: "" } : {}) }, "‹ newer"),
          el("span", {}, `page ${page} of ${pages} · ${data.total} rows`),
          el("button", { class: "secondary", onclick: () => go(page + 1), ...(page >= pages ? { disabled: "" } : {}) }, "older ›")));
    }
    await load();
    let pending = null;
    stream("/v1/board/events", { jobs: () => { clearTimeout(pending); pending = setTimeout(() => load().catch(fail), 300); } });
  }

  // ---- one job ------------------------------------------------------------------------------

  function drawDag(dag, states, jobId, selected) {
    const W = 170, H = 38, GX = 26, GY = 56, PAD = 16;
    const stages = dag.stages.length ? dag.stages : [dag.components.map((c) => c.name)];
    const widest = Math.max(1, ...stages.map((s) => s.length));
    const width = PAD * 2 + widest * W + (widest - 1) * GX;
    const height = PAD * 2 + stages.length * H + (stages.length - 1) * GY;
    const at = {};
    stages.forEach((stage, row) => {
      const offset = (width - (stage.length * W + (stage.length - 1) * GX)) / 2;
      stage.forEach((name, i) => { at[name] = { x: offset + i * (W + GX), y: PAD + row * (H + GY) }; });
    });
    const NS = "http://www.w3.org/2000/svg";
    const svg = (tag, attrs, ...kids) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      kids.forEach((k) => node.append(k));
      return node;
    };
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": "job graph" });
    for (const cpn of dag.components) {
      for (const up of cpn.upstream) {
        if (!at[up] || !at[cpn.name]) continue;
        const a = at[up], b = at[cpn.name];
        const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y;
        root.append(svg("path", { class: "edge", d: `M${x1},${y1} C${x1},${y1 + GY / 2} ${x2},${y2 - GY / 2} ${x2},${y2}` }));
      }
    }
    for (const cpn of dag.components) {
      const p = at[cpn.name];
      if (!p) continue;
      const state = states[cpn.name] || { status: "waiting" };
      const title = svg("title", {});
      title.textContent = `${cpn.name} (${cpn.module}): ${state.status}${state.reused_from ? "\nreused from " + state.reused_from : ""}${state.error ? "\n" + state.error : ""}`;
      const label = svg("text", { x: p.x + W / 2, y: p.y + H / 2 + 4, "text-anchor": "middle" });
      label.textContent = cpn.name.length > 22 ? cpn.name.slice(0, 21) + "…" : cpn.name;
      const node = svg("g", { class: `node${cpn.name === selected ? " selected" : ""}`, "data-component": cpn.name, "data-status": state.status },
        svg("rect", { x: p.x, y: p.y, width: W, height: H }), label, title);
      node.addEventListener("click", () => { location.hash = `#/job/${encodeURIComponent(jobId)}/${encodeURIComponent(cpn.name)}`; });
      root.append(node);
    }
    return root;
  }

  async function jobPage(jobId, component) {
    const job = await api(`/v1/board/job?job_id=${encodeURIComponent(jobId)}`);
    const head = el("div", { class: "card", id: "job-head" });
    const dagBox = el("div", { class: "card", id: "dag" });
    const parties = el("div", { id: "parties" });
    const panel = el("div", { id: "component" });
    const stopButton = el("button", { class: "danger", id: "stop" }, "Stop");
    const pauseButton = el("button", { class: "secondary", id: "pause" }, "Pause");
    const rerunSelect = el("select", { id: "rerun-component" }, el("option", { value: "" }, "failed components"), job.dag.components.map((c) => el("option", { value: c.name }, c.name)));
    const rerunButton = el("button", { class: "secondary", id: "rerun" }, "Rerun from");
    const logButton = el("button", { class: "secondary", id: "download-log" }, "Download logs");
    const notice = el("span", { class: "muted", id: "notice" });
    const toolbar = el("div", { class: "toolbar" }, stopButton, pauseButton, rerunButton, rerunSelect, logButton,
      el("a", { href: job.temporal_url, target: "_blank", rel: "noopener", id: "temporal-link" }, "workflow in the Temporal web UI"), notice);
    const detailTabs = tabs({
      "job parameters": () => json(job.job_parameters),
      DSL: () => json(job.dsl),
      conf: () => json(job.conf),
    });
    main.replaceChildren(
      el("h1", {}, "Job ", el("span", { id: "job-id" }, jobId)), head, toolbar,
      el("div", { class: "layout" },
        el("div", {}, dagBox, el("div", { class: "card" }, el("h2", {}, "Parties"), parties), el("div", { class: "card" }, detailTabs)),
        panel));

    stopButton.addEventListener("click", async () => {
      if (!confirm(`Stop job ${jobId}? It ends as canceled on every party.`)) return;
      try { await api("/v1/job/stop", { job_id: jobId }); notice.textContent = "stopping…"; } catch (e) { notice.textContent = e.message; }
    });
    pauseButton.addEventListener("click", async () => {
      const resuming = Boolean(job.pause_requested);
      try {
        await api(resuming ? "/v1/job/resume" : "/v1/job/pause", { job_id: jobId });
        notice.textContent = resuming ? "resuming…" : "pausing: running tasks finish, no new one starts…";
      } catch (e) { notice.textContent = e.message; }
    });
    rerunButton.addEventListener("click", async () => {
      const from = rerunSelect.value;
      if (!confirm(`Run job ${jobId} again from ${from || "its failed components"}? It and everything downstream run as a new version.`)) return;
      try {
        await api("/v1/job/rerun", { job_id: jobId, ...(from ? { component_name: from } : {}) });
        notice.textContent = "rerunning…";
        stream(`/v1/board/events?job_id=${encodeURIComponent(jobId)}`, { job: update });
      } catch (e) { notice.textContent = e.message; }
    });
    logButton.addEventListener("click", async () => {
      try { download(await (await api("/v1/job/log/download", { job_id: jobId })).blob(), `job_${jobId}_log.tar.gz`); } catch (e) { notice.textContent = e.message; }
    });

    let componentView = null;
    function update(live) {
      Object.assign(job, live);
      put(head, el("div", { class: "summary" },
        el("div", {}, el("span", { class: "label" }, "status"), badge(live.status)),
        el("div", {}, el("span", { class: "label" }, "progress"), progress(live.progress), ` ${live.progress}%`),
        el("div", {}, el("span", { class: "label" }, "initiator"), job.initiator),
        el("div", {}, el("span", { class: "label" }, "started"), when(job.start_time || job.create_time)),
        el("div", {}, el("span", { class: "label" }, "duration"), duration(live.parties.find((p) => p.is_initiator)?.elapsed_ms ?? job.elapsed_ms)),
        el("div", {}, el("span", { class: "label" }, "model"), `${job.model_id || "—"} / ${job.model_version || "—"}`)),
        live.reason && live.status !== "success" ? el("div", { class: "error", id: "job-reason" }, live.reason) : null);
      dagBox.replaceChildren(el("h2", {}, "Graph"), drawDag(job.dag, live.components, jobId, component));
      parties.replaceChildren(table(["role", "party", "status", "start", "duration"],
        live.parties.map((p) => [p.role, p.party_id, p.status, when(p.start_time), duration(p.elapsed_ms)])));
      stopButton.disabled = live.ended;
      pauseButton.disabled = live.ended;
      pauseButton.textContent = live.pause_requested ? "Resume" : "Pause";
      rerunButton.disabled = !live.ended;
      if (componentView) componentView.refresh(live);
    }
    update(job);
    if (component) componentView = await componentPanel(panel, job, component);
    else panel.replaceChildren(el("div", { class: "card muted" }, "Click a component in the graph for its parameters, metrics, model, data and log."));
    if (!job.ended) stream(`/v1/board/events?job_id=${encodeURIComponent(jobId)}`, { job: update });
  }

  function tabs(views, id) {
    const bar = el("div", { class: "tabs" });
    const body = el("div", {});
    const buttons = Object.entries(views).map(([name, render], i) => {
      const button = el("button", { type: "button", dataset: { tab: name } }, name);
      button.addEventListener("click", async () => {
        buttons.forEach((b) => b.classList.remove("active"));
        button.classList.add("active");
        body.replaceChildren(el("p", { class: "muted" }, "Loading…"));
        try { body.replaceChildren(...[].concat(await render())); } catch (e) { body.replaceChildren(el("p", { class: "muted" }, e.message)); }
      });
      if (i === 0) setTimeout(() => button.click());
      return button;
    });
    bar.append(...buttons);
    return el("div", id ? { id } : {}, bar, body);
  }

  async function componentPanel(panel, job, name) {
    const info = await api(`/v1/board/component?job_id=${encodeURIComponent(job.job_id)}&name=${encodeURIComponent(name)}`);
    const status = el("div", { id: "component-status" });
    const logs = {};
    const body = (party) => ({ job_id: job.job_id, role: party.role, party_id: party.party_id, component_name: name });
    const perParty = (render) => async () => (await Promise.all(info.parties.map(async (party) => {
      let content;
      try { content = await render(party); } catch (e) { content = el("p", { class: "muted" }, e.message); }
      return el("section", { dataset: { role: party.role, partyId: party.party_id } }, el("h3", {}, `${party.role} ${party.party_id}`), ...[].concat(content));
    })));
    const views = {
      metrics: perParty(async (party) => {
        const rendered = renderMetrics(await api("/v1/tracking/component/metric/all", body(party)));
        return rendered.length ? rendered : el("p", { class: "muted" }, "no metrics");
      }),
      model: perParty(async (party) => renderModel(await api("/v1/tracking/component/output/model", body(party)))),
      data: perParty(async (party) => {
        const data = await api("/v1/tracking/component/output/data", body(party));
        return [el("p", { class: "muted" }, `first ${data.data.length} of ${data.total} rows`),
          table(data.header, data.data, { class: "output-data", dataset: { role: party.role } })];
      }),
      parameters: perParty(async (party) => json(party.parameters)),
      tasks: () => table(["role", "party", "version", "status", "start", "end", "duration", "worker"],
        info.tasks.map((t) => [t.role, t.party_id, t.version, t.status, when(t.start_time), when(t.end_time), duration(t.elapsed_ms), t.worker || ""])),
      log: perParty(async (party) => {
        const pre = el("pre", { class: "log", dataset: { role: party.role, partyId: party.party_id } });
        logs[`${party.role}:${party.party_id}`] = pre;
        await fillLog(pre, party);
        return pre;
      }),
    };
    async function fillLog(pre, party) {
      const lines = await api(`/v1/board/log?job_id=${encodeURIComponent(job.job_id)}&role=${party.role}&party_id=${party.party_id}&component=${encodeURIComponent(name)}`);
      pre.textContent = lines.join("\n") || "(nothing logged yet)";
    }
    function showStatus(state) {
      state = state || { status: "waiting", error: "" };
      put(status,
        el("div", { class: "summary" },
          el("div", {}, el("span", { class: "label" }, "module"), info.module),
          el("div", {}, el("span", { class: "label" }, "status"), badge(state.status)),
          el("div", {}, el("span", { class: "label" }, "version"), String(state.version ?? 0)),
          el("div", {}, el("span", { class: "label" }, "upstream"), info.upstream.join(", ") || "—")),
        state.reused_from ? el("div", { class: "muted", id: "component-reused" }, `reused from ${state.reused_from}: its outputs were taken instead of running`) : null,
        state.error ? el("div", { class: "error", id: "component-error" }, state.error) : null);
    }
    showStatus(info.state);
    panel.replaceChildren(el("div", { class: "card" }, el("h2", {}, "Component ", el("span", { id: "component-name" }, name)), status, tabs(views, "component-tabs")));
    let last = JSON.stringify(info.state);
    return {
      refresh(live) {
        const state = live.components[name];
        const text = JSON.stringify(state);
        if (text === last) return;
        last = text;
        showStatus(state);
        for (const party of info.parties) {
          const pre = logs[`${party.role}:${party.party_id}`];
          if (pre) fillLog(pre, party).catch(() => {});
        }
      },
    };
  }

  // ---- models -------------------------------------------------------------------------------

  async function modelsPage() {
    const versions = await api("/v1/board/models");
    const detail = el("div", { id: "model-detail" });
    const rows = versions.map((v) => {
      const predict = el("button", { class: "secondary", ...(v.deployed ? {} : { disabled: "" }) }, "predict DSL");
      predict.addEventListener("click", async () => {
        try { detail.replaceChildren(el("h2", {}, `predict DSL of ${v.model_version}`), json(await api(`/v1/board/model/predict-dsl?model_id=${encodeURIComponent(v.model_id)}&model_version=${encodeURIComponent(v.model_version)}`))); } catch (e) { detail.replaceChildren(el("div", { class: "error" }, e.message)); }
      });
      const exportButton = el("button", { class: "secondary" }, "export");
      exportButton.addEventListener("click", async () => {
        try {
          const reply = await api("/v1/model/export", { model_id: v.model_id, model_version: v.model_version, role: v.role, party_id: v.party_id });
          download(await reply.blob(), `${v.model_id}_${v.model_version}_${v.role}_${v.party_id}.zip`.replace(/[#/]/g, "_"));
        } catch (e) { detail.replaceChildren(el("div", { class: "error" }, e.message)); }
      });
      return el("tr", {},
        el("td", {}, v.model_id), el("td", {}, v.model_version), el("td", {}, `${v.role} ${v.party_id}`),
        el("td", {}, v.components.map((c) => c.component_name).join(", ")), el("td", {}, when(v.create_time)),
        el("td", {}, v.job_id ? el("a", { href: `#/job/${encodeURIComponent(v.job_id)}` }, v.job_id) : "—"),
        el("td", {}, v.deployed ? "deployed" : ""), el("td", {}, v.loaded ? "loaded" : ""), el("td", {}, v.bound.join(", ")),
        el("td", {}, predict, " ", exportButton));
    });
    main.replaceChildren(el("h1", {}, "Models"),
      rows.length ? el("table", { id: "models" },
        el("thead", {}, el("tr", {}, ["model id", "version", "party", "components", "created", "job", "deployed", "loaded", "bound to", ""].map((h) => el("th", {}, h)))),
        el("tbody", {}, rows)) : el("p", { class: "muted" }, "No models yet."), detail);
  }

  // ---- routing ------------------------------------------------------------------------------

  async function route() {
    streams.forEach((s) => s.close());
    streams = [];
    const [path, query] = (location.hash.slice(1) || "/jobs").split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${parts[0]}`));
    try {
      if (!session) {
        session = await api("/v1/board/session");
        const who = document.getElementById("who");
        who.replaceChildren(`${session.mode} site · accord ${session.version}`);
        if (session.mode === "cluster") {
          who.append(` · ${session.app_key || ""} `, el("button", { class: "secondary", onclick: () => logout().catch(fail) }, "log out"));
        }
      }
      if (parts[0] === "job" && parts[1]) await jobPage(parts[1], parts[2]);
      else if (parts[0] === "models") await modelsPage();
      else await jobsPage(new URLSearchParams(query || ""));
    } catch (error) {
      fail(error);
    }
  }
  window.addEventListener("hashchange", route);
  route();
})();

// Warns before the idle sign-out and offers to stay signed in; the server keeps the clock
// (every request counts as activity), this page only mirrors it from its own load.
(function () {
  "use strict";
  const body = document.body;
  const banner = document.getElementById("idle-warning");
  if (!banner || !body.dataset.idleSeconds) return;

  const limit = Number(body.dataset.idleSeconds) * 1000;
  const lead = Math.min(Number(body.dataset.idleWarningSeconds) * 1000, limit);
  const url = body.dataset.keepAliveUrl;
  const token = document.querySelector('meta[name="csrf-token"]');
  const warning = banner.querySelector('[data-idle-state="warning"]');
  const ended = banner.querySelector('[data-idle-state="ended"]');
  const countdown = banner.querySelector("[data-idle-countdown]");
  const stay = banner.querySelector("[data-idle-stay]");
  const SHARED_KEY = "ecrf.lastActivity";
  let deadline = 0;
  let ticker = null;

  function show(state) {
    warning.hidden = state !== "warning";
    ended.hidden = state !== "ended";
    banner.hidden = state === null;
    body.classList.toggle("has-idle-warning", state !== null);
  }

  // Another tab's page load or keep-alive also counts: the server's clock is per session.
  function shared() {
    try { return Number(window.localStorage.getItem(SHARED_KEY)) || 0; } catch (e) { return 0; }
  }

  function share(now) {
    try { window.localStorage.setItem(SHARED_KEY, String(now)); } catch (e) { /* private mode */ }
  }

  function tick() {
    deadline = Math.max(deadline, shared() + limit);
    if (deadline - Date.now() > lead && !banner.hidden && ended.hidden) show(null);
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    if (left === 0) {
      clearInterval(ticker);
      show("ended");
      return;
    }
    if (left * 1000 <= lead) {
      countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (banner.hidden) show("warning");
    }
  }

  function restart() {
    const now = Date.now();
    share(now);
    deadline = now + limit;
    show(null);
    clearInterval(ticker);
    ticker = setInterval(tick, 1000);
  }

  stay.addEventListener("click", function () {
    stay.disabled = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-CSRFToken": token ? token.content : "" },
    })
      .then(function (response) {
        if (response.status === 204) restart();
        else show("ended");
      })
      .catch(function () {
        show("ended");
      })
      .finally(function () {
        stay.disabled = false;
      });
  });

  restart();
})();

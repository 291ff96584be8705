// The day board refreshes itself (staff/board.html); a static file so the CSP allows no inline script.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.fetch) { return; }
  var url = board.getAttribute("data-refresh-url");
  var seconds = parseInt(board.getAttribute("data-refresh-seconds"), 10) || 30;
  function busy() {
    // Never pull the board away from under someone who is using it.
    return board.contains(document.activeElement) || board.querySelector("details[open]") !== null;
  }
  function refresh() {
    if (document.hidden || busy()) { return; }
    fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        if (response.redirected || !response.ok) {
          // Logged out or lost access: show the real page (the login page, for instance).
          if (response.redirected || response.status === 403) { window.location.reload(); }
          throw new Error("board refresh: " + response.status);
        }
        return response.text();
      })
      .then(function (html) { if (!busy()) { board.innerHTML = html; } })
      .catch(function () { /* try again at the next tick */ });
  }
  window.setInterval(refresh, seconds * 1000);
})();

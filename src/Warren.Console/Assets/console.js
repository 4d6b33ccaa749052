// Warren console: optional enhancements. Every page works without this script.
(function () {
  "use strict";

  // Swaps the content of <main> for the same element of a freshly fetched page.
  function refreshMain(url, done) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById(done.id);
        var current = document.getElementById(done.id);
        if (fresh && current) { current.replaceWith(fresh); }
        if (done.after) { done.after(); }
      })
      .catch(function () { /* keep what is shown */ });
  }

  // The overview refreshes itself every 15 seconds while it is visible.
  if (document.querySelector("[data-refresh='overview']")) {
    window.setInterval(function () {
      if (document.visibilityState === "visible") {
        refreshMain(window.location.href, { id: "main" });
      }
    }, 15000);
  }

  // Module search as you type: results replace the list without a full page load.
  var search = document.querySelector("input[data-search]");
  if (search) {
    var timer = 0;
    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var url = "/ui/modules?q=" + encodeURIComponent(search.value);
        refreshMain(url, { id: "results", after: function () { window.history.replaceState(null, "", url); } });
      }, 250);
    });
  }
})();

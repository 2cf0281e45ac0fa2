// A long import's progress bar, moved in place. Without JavaScript the page's <noscript> refresh
// reloads it every few seconds instead; in place is kinder to a screen reader, which would
// otherwise start the page again at every reload. No framework: the page is the API.
(function () {
  "use strict";
  var region = document.querySelector("[data-poll]");
  if (!region || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = parseInt(region.getAttribute("data-poll"), 10) || 2000;

  function copy(fresh, selector, attributes) {
    var now = region.querySelector(selector);
    var next = fresh.querySelector(selector);
    if (!now || !next) {
      return;
    }
    attributes.forEach(function (name) {
      if (name === "text") {
        if (now.textContent !== next.textContent) {
          now.textContent = next.textContent;
        }
      } else {
        now.setAttribute(name, next.getAttribute(name));
      }
    });
  }

  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-progress]");
        if (!fresh || !fresh.hasAttribute("data-poll")) {
          // Finished (or stopped): the whole page changes, with the outcome and the rows not recorded.
          window.location.reload();
          return;
        }
        copy(fresh, "progress", ["value", "max", "text"]);
        copy(fresh, "[data-progress-state]", ["text"]);
        copy(fresh, "[data-progress-text]", ["text"]);
        window.setTimeout(poll, every);
      })
      .catch(function () {
        // The portal busy or restarting: try again later, a little less often.
        window.setTimeout(poll, every * 2);
      });
  }

  window.setTimeout(poll, every);
})();

// The activity feed's live updates: ask the app every few seconds for events
// stored after the newest one shown, and put them at the top of the list (an
// aria-live region, so screen readers hear them). Same origin only; paused
// while the tab is hidden. Without this script the page is complete and its
// Refresh link reloads it.
(function () {
  "use strict";

  var EVERY_MS = 3000;
  var feed = document.getElementById("activity-feed");
  if (!feed || !feed.dataset.poll || !window.fetch) {
    return;
  }
  var after = feed.dataset.after || "0";
  var timer = null;
  var busy = false;

  function insert(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var rows = Array.prototype.slice.call(template.content.querySelectorAll("li"));
    // Newest first in the answer: insert from the oldest, each at the top.
    rows.reverse().forEach(function (row) {
      var id = row.getAttribute("data-event-id");
      if (!feed.querySelector('[data-event-id="' + id + '"]')) {
        row.classList.add("event-new");
        feed.insertBefore(row, feed.firstChild);
      }
    });
    if (rows.length) {
      feed.hidden = false;
      var empty = document.getElementById("activity-empty");
      if (empty) {
        empty.remove();
      }
    }
  }

  function poll() {
    timer = null;
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    var url = new URL(feed.dataset.poll, window.location.href);
    url.searchParams.set("after", after);
    fetch(url.toString(), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        // Signed out, or the app answering something else: try again later.
        return response.ok && type.indexOf("application/json") === 0
          ? response.json()
          : null;
      })
      .then(function (answer) {
        if (!answer) {
          return;
        }
        if (answer.count) {
          insert(answer.html);
        }
        if (answer.more) {
          document.getElementById("activity-more").hidden = false;
        }
        after = String(answer.newest);
      })
      .catch(function () {
        // Offline or the app restarting: the next round tries again.
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  function schedule() {
    if (timer === null && !document.hidden) {
      timer = window.setTimeout(poll, EVERY_MS);
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearTimeout(timer);
      timer = null;
    } else if (!busy) {
      window.clearTimeout(timer);
      timer = null;
      poll();
    }
  });

  schedule();
})();

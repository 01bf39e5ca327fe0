// Lawyer console: live refresh of [data-live] regions and candidate insertion.
// Plain JS, no dependencies; every page works without it (forms are plain POSTs).
(function () {
  "use strict";

  // -- insert a candidate answer into the reply box ----------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-insert"));
    var box = document.getElementById("reply-text");
    if (!source || !box) return;
    var text = source.textContent.trim();  // textContent: the text, never markup
    box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });

  // -- live updates: poll the queue revision, refresh the live regions on change -------
  var body = document.body;
  var url = body.getAttribute("data-revision-url");
  var revision = body.getAttribute("data-revision");
  if (!url || revision === null) return;
  var every = (parseInt(body.getAttribute("data-poll-seconds"), 10) || 5) * 1000;
  var note = document.getElementById("live-note");

  function busy(region) {
    // Never replace what the lawyer is typing or choosing.
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      return true;
    }
    var fields = region.querySelectorAll("textarea, input:not([type=hidden]), select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.tagName === "SELECT") {
        var initial = 0;  // the option marked selected, else the first
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].defaultSelected) { initial = j; break; }
        }
        if (f.selectedIndex !== initial) return true;
      } else if (f.type === "checkbox" ? f.checked !== f.defaultChecked : f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function say(text) {
    if (note) note.textContent = text;
  }

  function refresh() {
    return fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) {
        if (r.redirected && r.url.indexOf("/login") !== -1) { window.location.reload(); }
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var skipped = false;
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var fresh = doc.getElementById(region.id);
          if (!fresh) return;
          if (busy(region)) { skipped = true; return; }
          region.replaceWith(document.importNode(fresh, true));
        });
        var now = new Date();
        say(skipped ? "页面有更新，提交或刷新后可见" :
          "已于 " + now.toLocaleTimeString("zh-CN", {hour12: false}) + " 自动更新");
      });
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); throw new Error("signed out"); }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        if (data.revision !== revision) {
          revision = data.revision;
          return refresh();
        }
      })
      .catch(function () { say("连接中断，正在重试…"); })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
})();

/* users */
// Forms marked data-confirm ask once before they are sent (disable, reset password).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });
})();

/* tuning */
// The evaluation page's 填入 buttons copy a threshold from the what-if tables into the form.
(function () {
  "use strict";
  var fields = {answer: "th-answer", suggest: "th-suggest"};
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-threshold]");
    if (!button) return;
    var input = document.getElementById(fields[button.getAttribute("data-fill-threshold")]);
    if (!input) return;
    input.value = button.getAttribute("data-value");
    input.focus();
    input.scrollIntoView({block: "center"});
  });
})();

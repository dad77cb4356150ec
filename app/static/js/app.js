// Livret: small progressive enhancements on top of htmx. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  function messages() {
    return document.getElementById("messages");
  }

  // Toasts: the server sends `HX-Trigger: {"livret:toast": {"message": "...", "level": "success"}}`.
  document.body.addEventListener("livret:toast", function (event) {
    var box = messages();
    if (!box || !event.detail) return;
    var note = document.createElement("div");
    note.className = "notice notice-" + (event.detail.level || "success");
    note.setAttribute("role", "status");
    var p = document.createElement("p");
    p.textContent = event.detail.message || "";
    note.appendChild(p);
    box.replaceChildren(note);
    window.setTimeout(function () {
      if (note.parentNode === box) box.removeChild(note);
    }, 6000);
  });

  // Clear stale messages when a new request starts from a form.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var box = messages();
    if (box && event.detail.elt && event.detail.elt.tagName === "FORM") box.replaceChildren();
  });
})();

// Filter lists as you type: <input data-filter=".item" data-filter-groups=".group">.
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-filter]")) return;
    var scope = input.closest("fieldset, form, section") || document;
    var needle = input.value.trim().toLowerCase();
    scope.querySelectorAll(input.dataset.filter).forEach(function (item) {
      item.hidden = needle !== "" && item.textContent.toLowerCase().indexOf(needle) === -1;
    });
    if (input.dataset.filterGroups) {
      scope.querySelectorAll(input.dataset.filterGroups).forEach(function (group) {
        var visible = group.querySelector(input.dataset.filter + ":not([hidden])");
        group.hidden = !visible;
        if (needle !== "" && visible) group.open = true;
      });
    }
  });

  // Upload progress for htmx uploads.
  document.body.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    var bar = form ? form.querySelector(".upload-progress") : null;
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
})();
